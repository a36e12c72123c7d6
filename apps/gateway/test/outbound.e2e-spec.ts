import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, waitFor, type TestEnv } from '@app/testing';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { SandboxConfigSchema } from '../../sandbox/src/config';
import { SandboxModule } from '../../sandbox/src/sandbox.module';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';

const ADMIN = { email: 'root@example.test', password: 'admin-password-123' };

describe('POST /api/v1/messages: gateway → notifications → WhatsApp sandbox', () => {
  let env: TestEnv;
  let sandbox: INestApplication;
  let sandboxUrl: string;
  let notifications: INestApplication;
  let ingest: INestApplication; // answers whether the recipient is a blocked contact
  let gateway: INestApplication;
  let key: string;
  let readOnlyKey: string;

  const post = (body: object, idem: string | null = randomUUID(), k = key) => {
    const r = request(gateway.getHttpServer()).post('/api/v1/messages').set('X-Api-Key', k);
    if (idem) r.set('Idempotency-Key', idem);
    return r.send(body);
  };
  const template = { phoneNumberId: '300000000000001', to: '15557000001', type: 'template', template: { name: 'hello_world', language: 'en_US' } };
  const sent = async (to: string) => (await request(sandboxUrl).get('/sandbox/sent').query({ to }).expect(200)).body.count;

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    sandbox = await startApp(SandboxModule.register(parseConfig(SandboxConfigSchema, { NODE_ENV: 'test', SANDBOX_WEBHOOKS: 'false' })), { listen: true });
    sandboxUrl = (await sandbox.getUrl()).replace('[::1]', '127.0.0.1');
    notifications = await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, { ...env.env, GRAPH_API_BASE_URL: sandboxUrl })));
    ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, { ...env.env, MEDIA_DIR: `/tmp/outbound-e2e-${randomUUID()}` })));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    const http = request(gateway.getHttpServer());
    const token = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    const mk = async (scopes: string[]) =>
      (await request(gateway.getHttpServer()).post('/api/v1/api-keys').set('Authorization', `Bearer ${token}`).send({ name: scopes.join(' '), scopes }).expect(201)).body.key;
    key = await mk(['messages:send']);
    readOnlyKey = await mk(['conversations:read']);
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await notifications?.close();
    await ingest?.close();
    await sandbox?.close();
    await env?.cleanup();
  });

  it('queues a template (202), sends it once, and answers a retry with the same Idempotency-Key with the first result', async () => {
    const idem = randomUUID();
    const first = await post(template, idem).expect(202);
    expect(first.body).toEqual({ sendId: expect.any(String), status: 'queued', waMessageId: null, duplicate: false });
    await waitFor(async () => (await sent(template.to)) === 1, { what: 'one message at the sandbox' });
    // a client retrying with the same key sees the first request's send, soon with its wamid
    const again = await waitFor(async () => {
      const r = await post(template, idem).expect(202);
      return r.body.status === 'sent' ? r : null;
    });
    expect(again.body).toMatchObject({ sendId: first.body.sendId, duplicate: true, status: 'sent', waMessageId: expect.stringMatching(/^wamid\./) });
    await new Promise((r) => setTimeout(r, 300));
    expect(await sent(template.to)).toBe(1);
  });

  it('requires credentials with the messages:send scope and an Idempotency-Key', async () => {
    await request(gateway.getHttpServer()).post('/api/v1/messages').send(template).expect(401);
    await post(template, randomUUID(), readOnlyKey).expect(403);
    const res = await post(template, null).expect(400);
    expect(res.body.message).toMatch(/Idempotency-Key/);
  });

  it('refuses bad input with 400 naming the field, and sends nothing', async () => {
    const to = '15557000002';
    const cases: [object, RegExp][] = [
      [{ ...template, to, type: 'text', text: { body: '' } }, /body should not be empty/],
      [{ ...template, to, type: 'text', text: { body: 'x'.repeat(4097) } }, /body must be shorter than or equal to 4096/],
      [{ ...template, to, type: 'text' }, /text: the text object is required/],
      [{ ...template, to, type: 'sms' }, /type must be one of/],
      [{ ...template, to, extra: 1 }, /property extra should not exist/],
      [{ ...template, to, type: 'image', image: {} }, /exactly one of image\.id, image\.link or image\.uploadId/],
      [
        { ...template, to, type: 'interactive', interactive: { type: 'button', body: { text: 'b' }, buttons: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: 'B' })) } },
        /interactive\.buttons/,
      ],
      [{ ...template, to, template: { name: 'sample_shipping_confirmation', language: 'en_US' } }, /expects 1 body parameter/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect({ status: res.status, message: res.body.message }).toEqual({ status: 400, message: expect.stringMatching(message) });
    }
    expect(await sent(to)).toBe(0);
  });

  it('refuses free-form text to a customer who has not written in 24 hours: 400 saying a template is needed', async () => {
    const res = await post({ ...template, to: '15557000003', type: 'text', text: { body: 'hello' } }).expect(400);
    expect(res.body.message).toMatch(/only an approved template can be sent/);
  });
});
