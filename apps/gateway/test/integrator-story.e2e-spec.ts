import type { INestApplication } from '@nestjs/common';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { useWebhookRawBody } from '../src/webhooks/whatsapp/raw-body';
import { sign } from '../src/webhooks/whatsapp/signature';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { SandboxConfigSchema } from '../../sandbox/src/config';
import { SandboxModule } from '../../sandbox/src/sandbox.module';
import { textWebhook } from '../../../test/support/webhooks';

/**
 * The "done when": an integrator, with the API alone, connects a number, receives signed events for
 * new messages and assignments, and replies through the API (and a customer's photo is fetched with the registered app's token). All five services and the sandbox as Meta.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const META_TOKEN = 'EAAG-integrator-system-user-token';
const APP_SECRET = 'integrator-app-secret-31f';
const NUMBER = '106540352277001';
const WABA = '100000000000991';
const CUSTOMER = '4915112345678';

/** docs/WEBHOOKS.md's verification. */
const verify = (secret: string, header: string, raw: string) => {
  const f = Object.fromEntries(header.split(',').map((kv) => kv.split('=')));
  const expected = createHmac('sha256', secret).update(`${f.t}.${raw}`).digest();
  const given = Buffer.from(f.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) && Math.abs(Date.now() / 1000 - Number(f.t)) < 300;
};

describe('integrator story (gateway, ingest, routing, notifications, sandbox; real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  const apps: INestApplication[] = [];
  let sandbox: INestApplication;
  let gateway: INestApplication;
  let receiver: Server;
  const events: { headers: IncomingHttpHeaders; raw: string }[] = [];

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/story-e2e-${randomUUID()}` });
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        events.push({ headers: req.headers, raw });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    sandbox = await startApp(
      SandboxModule.register(parseConfig(SandboxConfigSchema, { NODE_ENV: 'test', SANDBOX_ACCESS_TOKEN: META_TOKEN, SANDBOX_WEBHOOKS: 'false', SANDBOX_PAIR_INTERVAL_MS: '0' })),
      { listen: true },
    );
    const graph = `http://127.0.0.1:${(sandbox.getHttpServer().address() as AddressInfo).port}`;
    // ingest's configured token is wrong too: media of the registered number is fetched with the app's token
    apps.push(await startApp(IngestModule.register(parseConfig(IngestConfigSchema, { ...env.env, GRAPH_API_BASE_URL: graph, WHATSAPP_ACCESS_TOKEN: 'not-the-token', MEDIA_SWEEP_INTERVAL_MS: '100' }))));
    apps.push(await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env))));
    // the configured default token is wrong on purpose: only the registered app's token can send
    apps.push(
      await startApp(
        NotificationsModule.register(
          parseConfig(NotificationsConfigSchema, { ...env.env, GRAPH_API_BASE_URL: graph, WHATSAPP_ACCESS_TOKEN: 'not-the-token', OUTBOUND_POLL_MS: '20', TEMPLATE_SYNC_INTERVAL_MS: '3600000' }),
        ),
      ),
    );
    gateway = await startApp(
      GatewayModule.register(
        parseConfig(GatewayConfigSchema, {
          ...env.env,
          GRAPH_API_BASE_URL: graph,
          WHATSAPP_APP_SECRET: '',
          EVENT_WEBHOOK_HTTP_HOSTS: '127.0.0.1',
          EVENT_WEBHOOK_ALLOW_PRIVATE: 'true',
          EVENT_WEBHOOK_POLL_MS: '50',
        }),
      ),
      { setup: (app) => useWebhookRawBody(app, 1 << 20) },
    );
    apps.push(gateway);
  }, 120_000);
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close();
    await sandbox?.close();
    await new Promise((r) => receiver?.close(r));
    await env?.cleanup();
  });

  it('connects a number, gets signed message and assignment events, and replies through the API', async () => {
    const http = request(gateway.getHttpServer());
    const admin = { Authorization: `Bearer ${(await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken}` };
    const key = { 'X-Api-Key': (await http.post('/api/v1/api-keys').set(admin).send({ name: 'crm', scopes: ['admin', 'webhooks:manage', 'messages:send', 'conversations:read'] }).expect(201)).body.key };

    // connect the number
    const teamId = (await http.post('/api/v1/teams').set(key).send({ name: 'Sales' }).expect(201)).body.id;
    const appId = (await http.post('/api/v1/meta-apps').set(key).send({ name: 'CRM app', appSecret: APP_SECRET, verifyToken: 'integrator-verify-token', accessToken: META_TOKEN }).expect(201)).body.id;
    await http.post('/api/v1/whatsapp-accounts').set(key).send({ wabaId: WABA, name: 'Shop', appId }).expect(201);
    await http.post('/api/v1/numbers').set(key).send({ phoneNumberId: NUMBER, wabaId: WABA, displayNumber: '+1 555 027 7001', defaultTeamId: teamId }).expect(201);
    expect((await http.post(`/api/v1/numbers/${NUMBER}/test`).set(key).expect(200)).body).toMatchObject({ ok: true, qualityRating: 'GREEN' });

    // subscribe
    const sub = (await http.post('/api/v1/webhook-subscriptions').set(key).send({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`, eventTypes: ['message.received', 'conversation.assigned'] }).expect(201)).body;

    // a customer writes: Meta's webhook signed with the registered app's secret
    const body = textWebhook({ phoneNumberId: NUMBER, from: CUSTOMER, text: 'Do you ship to Berlin?' });
    await http.post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', sign(body, APP_SECRET)).send(body).expect(200);
    const message = await waitFor(async () => events.map((e) => ({ e, j: JSON.parse(e.raw) })).find((x) => x.j.type === 'message.received') ?? null, { what: 'message.received delivered', timeoutMs: 20_000 });
    expect(verify(sub.signingSecret, String(message.e.headers['switchboard-signature']), message.e.raw)).toBe(true);
    expect(message.j.data).toMatchObject({ phoneNumberId: NUMBER, text: 'Do you ship to Berlin?' });
    const conversationId: string = message.j.data.conversationId;

    // reply through the API (the 24 h window is open once notifications saw the message)
    const reply = await waitFor(
      async () => {
        const r = await http
          .post('/api/v1/messages')
          .set(key)
          .set('Idempotency-Key', 'reply-1')
          .send({ phoneNumberId: NUMBER, to: CUSTOMER, conversationId, type: 'text', text: { body: 'Yes, in 2 days.' } });
        return r.status === 202 ? r : null;
      },
      { what: 'reply accepted', timeoutMs: 20_000 },
    );
    expect(reply.body).toMatchObject({ sendId: expect.any(String), duplicate: false });
    const sent = await waitFor(
      async () => (await request(sandbox.getHttpServer()).get(`/sandbox/sent?phoneNumberId=${NUMBER}`)).body.messages.find((m: { to: string }) => m.to === CUSTOMER) ?? null,
      { what: 'reply at the sandbox', timeoutMs: 20_000 },
    );
    expect(sent.body.text.body).toBe('Yes, in 2 days.');

    // someone assigns the conversation: the integrator hears of it, signed
    const agent = (await http.post('/api/v1/users').set(admin).send({ email: 'ana@example.test', name: 'Ana', password: 'agent-password-123', role: 'agent', teamIds: [teamId] }).expect(201)).body;
    const conv = (await http.get(`/api/v1/conversations/${conversationId}`).set(admin).expect(200)).body;
    await http.post(`/api/v1/conversations/${conversationId}/assign`).set(admin).set('If-Match', `"${conv.version}"`).send({ assigneeId: agent.id }).expect(200);
    const assignment = await waitFor(async () => events.map((e) => ({ e, j: JSON.parse(e.raw) })).find((x) => x.j.type === 'conversation.assigned' && x.j.data.ownerId === agent.id) ?? null, {
      what: 'conversation.assigned delivered',
      timeoutMs: 20_000,
    });
    expect(verify(sub.signingSecret, String(assignment.e.headers['switchboard-signature']), assignment.e.raw)).toBe(true);
    expect(assignment.j.data.conversationId).toBe(conversationId);

    // the customer sends a photo: ingest downloads it with the registered app's token, the API streams it
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201e2266de90000000049454e44ae426082', 'hex');
    const mediaId = (await request(sandbox.getHttpServer()).post(`/v23.0/${NUMBER}/media`).set('Authorization', `Bearer ${META_TOKEN}`).field('messaging_product', 'whatsapp').attach('file', png, { filename: 'p.png', contentType: 'image/png' }).expect(200)).body.id;
    const photo = JSON.parse(textWebhook({ phoneNumberId: NUMBER, from: CUSTOMER, text: 'x' }));
    const msg = photo.entry[0].changes[0].value.messages[0];
    delete msg.text;
    Object.assign(msg, { type: 'image', image: { id: mediaId, mime_type: 'image/png' } });
    const raw = JSON.stringify(photo);
    await http.post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', sign(raw, APP_SECRET)).send(raw).expect(200);
    const image = await waitFor(async () => events.map((e) => JSON.parse(e.raw)).find((j) => j.type === 'message.received' && j.data.type === 'image') ?? null, { what: 'image message event', timeoutMs: 20_000 });
    const file = await waitFor(
      async () => {
        const r = await http.get(`/api/v1/media/${image.data.messageId}`).set(admin).buffer(true).parse((res, cb) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => cb(null, Buffer.concat(chunks)));
        });
        return r.status === 200 ? r : null;
      },
      { what: 'photo downloaded and served', timeoutMs: 20_000 },
    );
    expect(Buffer.compare(file.body as Buffer, png)).toBe(0);
  }, 90_000);
});
