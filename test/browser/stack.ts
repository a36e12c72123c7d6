import type { INestApplication } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../../apps/gateway/src/config';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { useWebhookRawBody } from '../../apps/gateway/src/webhooks/whatsapp/raw-body';
import { IngestConfigSchema } from '../../apps/ingest/src/config';
import { IngestModule } from '../../apps/ingest/src/ingest.module';
import { NotificationsConfigSchema } from '../../apps/notifications/src/config';
import { NotificationsModule } from '../../apps/notifications/src/notifications.module';
import { RoutingConfigSchema } from '../../apps/routing/src/config';
import { RoutingModule } from '../../apps/routing/src/routing.module';
import { SandboxConfigSchema } from '../../apps/sandbox/src/config';
import { SandboxModule } from '../../apps/sandbox/src/sandbox.module';
import { ManualClock } from '../../apps/sla/src/clock/clock';
import { SlaConfigSchema } from '../../apps/sla/src/config';
import { SlaModule } from '../../apps/sla/src/sla.module';

const ROOT = join(__dirname, '..', '..');
const url = (app: INestApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

/** Builds the web client into a fresh directory (vite build, ~2 s), as `npm run build` does into dist/web. */
export function buildWeb(): string {
  const out = mkdtempSync(join(tmpdir(), 'sb-web-'));
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', join(ROOT, 'apps/web/vite.config.mts'), '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return out;
}

/**
 * The real stack in this process on a fresh database and NATS namespace: gateway (listening, serving the built web
 * client, demo organisation seeded), ingest, routing, notifications, and the WhatsApp sandbox whose signed webhooks
 * go to the gateway and which receives what notifications sends.
 */
export class BrowserStack {
  env!: TestEnv;
  apps: INestApplication[] = [];
  gateway!: INestApplication;
  sandbox!: INestApplication;
  base!: string;
  sandboxUrl!: string;
  /** The time the sla service acts on (moved by tests, never slept through). */
  readonly slaClock = new ManualClock();

  static async start(webDir: string, extra: Record<string, string> = {}): Promise<BrowserStack> {
    const s = new BrowserStack();
    s.env = await createTestEnv({
      SEED_DEMO: 'true',
      ADMIN_EMAIL: 'admin@example.test',
      ADMIN_PASSWORD: 'admin-password-123',
      WEB_DIR: webDir,
      WHATSAPP_APP_SECRET: 'sandbox-app-secret',
      MEDIA_DIR: join(tmpdir(), `sb-browser-media-${randomUUID()}`),
      // the tests move sla's clock past due times in one jump: judge those late clocks at once instead of waiting
      // the late-clock grace (which lets a backlog of in-time replies land first after downtime)
      SLA_LATE_CLOCK_GRACE_MS: '0',
      ...extra,
    });
    s.apps.push(await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, s.env.env))));
    const cfg = parseConfig(GatewayConfigSchema, s.env.env);
    s.gateway = await startApp(GatewayModule.register(cfg), { listen: true, setup: (a) => useWebhookRawBody(a, cfg.WEBHOOK_MAX_BYTES) });
    s.apps.push(s.gateway);
    s.base = url(s.gateway);
    s.sandbox = await startApp(
      SandboxModule.register(parseConfig(SandboxConfigSchema, { NODE_ENV: 'test', LOG_LEVEL: 'silent', SANDBOX_WEBHOOK_URL: `${s.base}/webhooks/whatsapp` })),
      { listen: true },
    );
    s.apps.push(s.sandbox);
    s.sandboxUrl = url(s.sandbox);
    const graph = { GRAPH_API_BASE_URL: s.sandboxUrl };
    s.apps.push(await startApp(IngestModule.register(parseConfig(IngestConfigSchema, { ...s.env.env, ...graph }))));
    s.apps.push(await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, { ...s.env.env, ...graph }))));
    s.apps.push(await startApp(SlaModule.register(parseConfig(SlaConfigSchema, s.env.env), { clock: s.slaClock })));
    return s;
  }

  /** What the business sent to one customer, as the sandbox's phone saw it. */
  async sentTo(waId: string): Promise<{ count: number; messages: { type: string; body: Record<string, any> }[] }> {
    return (await fetch(`${this.sandboxUrl}/sandbox/sent?to=${waId}`)).json();
  }

  /** A signed-in API call (tests set up policies this way, as an admin screen would). */
  async as(email: string, password: string): Promise<<T>(path: string, init?: { method?: string; body?: unknown }) => Promise<T>> {
    const login = await (await fetch(`${this.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).json();
    return async <T>(path: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(`${this.base}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${login.accessToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
  }

  /** A customer writes through the sandbox (signed webhook to the gateway, as Meta would). */
  async customerWrites(waId: string, name: string, text: string, at?: Date): Promise<void> {
    const res = await fetch(`${this.sandboxUrl}/sandbox/customers/${waId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, text, ...(at ? { timestamp: Math.floor(at.getTime() / 1000) } : {}) }),
    });
    if (res.status !== 200) throw new Error(`sandbox refused the customer message: ${res.status}`);
  }

  async stop(): Promise<void> {
    for (const a of [...this.apps].reverse()) await a.close().catch(() => undefined);
    await this.env?.cleanup();
  }
}
