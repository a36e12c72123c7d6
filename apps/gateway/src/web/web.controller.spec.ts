import { parseConfig } from '@app/config';
import { GatewayConfigSchema } from '../config';
import { WebController } from './web.controller';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1:5432/x', NATS_URL: 'nats://127.0.0.1:4222' };

describe('WebController.config', () => {
  it('shows the demo logins only when the demo is seeded, and never in production', () => {
    const cfg = (env: Record<string, string>) => new WebController(parseConfig(GatewayConfigSchema, { ...base, ...env })).config();
    expect(cfg({ SEED_DEMO: 'false' }).demo).toBeNull();
    expect(cfg({ SEED_DEMO: 'true', NODE_ENV: 'production', SECRETS_KEY: `k1:${Buffer.alloc(32, 1).toString('base64')}` }).demo).toBeNull();
    const demo = cfg({ SEED_DEMO: 'true', DEMO_PASSWORD: 'demo-pass-1' }).demo;
    expect(demo?.password).toBe('demo-pass-1');
    expect(demo?.users.map((u) => u.role)).toContain('manager');
  });
});
