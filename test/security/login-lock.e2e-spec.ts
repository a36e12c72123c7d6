import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../../apps/gateway/src/config';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';

/**
 * Login brute force: after LOGIN_MAX_FAILURES wrong passwords sign-in to the account is locked (429, even with the
 * right password) and its owner finds one notice in the notification centre. Gateway alone, real PostgreSQL and NATS.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const TARGET = { email: 'target@example.test', password: 'target-password-123' };

describe('security: login brute force locks the account and tells its owner', () => {
  let env: TestEnv;
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const login = (password: string) => http().post('/api/v1/auth/login').send({ email: TARGET.email, password });

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, LOGIN_MAX_FAILURES: '4', LOGIN_WINDOW_S: '600' });
    app = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    const admin = (await http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    await http().post('/api/v1/users').set('Authorization', `Bearer ${admin}`).send({ ...TARGET, name: 'Target', role: 'agent' }).expect(201);
  });
  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  it('locks after 4 wrong passwords, refuses the right one with 429, and notifies the owner once', async () => {
    const token = (await login(TARGET.password).expect(200)).body.accessToken;
    const notices = async () => (await http().get('/api/v1/notifications').set('Authorization', `Bearer ${token}`).expect(200)).body.items as { title: string; body: string | null; kind: string }[];
    expect(await notices()).toEqual([]);
    for (let i = 0; i < 4; i++) await login(`wrong-guess-${i}`).expect(401);
    const locked = await login(TARGET.password).expect(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(500);
    for (let i = 0; i < 3; i++) await login(`more-guesses-${i}`).expect(429); // still locked: no new notice
    const got = await waitFor(async () => {
      const n = await notices();
      return n.length ? n : null;
    }, { what: 'the lock notice', timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await notices()).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'system', title: 'Sign-in to your account is paused' });
    expect(got[0].body).toMatch(/4 wrong passwords/);
    expect(JSON.stringify(got)).not.toMatch(/wrong-guess|more-guesses|target-password/);
  });
});
