import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';

/** Cross-origin browser access to the API is an allow-list (CORS_ORIGINS); everyone else is refused by the browser. */
describe('CORS allow-list (gateway)', () => {
  const CRM = 'https://crm.example.com';
  const EVIL = 'https://evil.example.net';
  let env: TestEnv;
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    env = await createTestEnv({ CORS_ORIGINS: `${CRM}, http://localhost:5173` });
    app = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
  });
  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  it('a listed origin may call the API: preflight allows the methods and headers integrators need, answers expose ETag', async () => {
    const pre = await http()
      .options('/api/v1/conversations')
      .set('Origin', CRM)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, idempotency-key, content-type')
      .expect(204);
    expect(pre.headers['access-control-allow-origin']).toBe(CRM);
    expect(pre.headers['access-control-allow-methods']).toContain('POST');
    expect(pre.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(pre.headers['access-control-allow-headers']).toMatch(/Idempotency-Key/);
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();

    const res = await http().get('/api/v1/conversations').set('Origin', CRM).expect(401);
    expect(res.headers['access-control-allow-origin']).toBe(CRM);
    expect(res.headers.vary).toMatch(/Origin/);
    expect(res.headers['access-control-expose-headers']).toMatch(/ETag/);
  });

  it('an origin not on the list gets no Access-Control-Allow-Origin, on preflight and on the request itself', async () => {
    const pre = await http()
      .options('/api/v1/conversations')
      .set('Origin', EVIL)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(pre.headers['access-control-allow-headers']).toBeUndefined();
    for (const origin of [EVIL, 'https://crm.example.com.evil.net', 'http://crm.example.com', 'null']) {
      const res = await http().post('/api/v1/auth/login').set('Origin', origin).send({ email: 'a@b.test', password: 'x' });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('requests without an Origin (server-to-server, the same-origin web client) are unaffected', async () => {
    const res = await http().get('/health/live').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('a CORS_ORIGINS entry that is not an origin is refused at start-up, naming the setting', () => {
    expect(() => parseConfig(GatewayConfigSchema, { ...env.env, CORS_ORIGINS: 'crm.example.com/path' })).toThrow(/CORS_ORIGINS/);
  });
});
