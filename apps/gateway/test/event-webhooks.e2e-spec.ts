import type { INestApplication } from '@nestjs/common';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { ConversationAssignedV1, MessageReceivedV1, NoteAddedV1, NoticeRequestedV1, type PayloadOf } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config';
import { EventWebhookClock } from '../src/event-webhooks/event-clock';
import { EventSender } from '../src/event-webhooks/event-sender';
import { GatewayModule } from '../src/gateway.module';
import { CapturedLogs, startCapturedApp } from '../../../test/support/captured-app';

/**
 * The receiver's side, exactly as docs/WEBHOOKS.md tells integrators to verify a delivery:
 * HMAC-SHA256(secret, `${t}.${rawBody}`) in hex must equal a v1 value of Switchboard-Signature, t recent.
 */
function verifySwitchboardSignature(secret: string, header: string, rawBody: string, nowS: number): boolean {
  const fields = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const t = Number(fields.t);
  if (!Number.isFinite(t) || Math.abs(nowS - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(fields.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The gateway's event-webhook clock (tests move it), so events happen when the gateway thinks it is. */
let now = () => new Date().toISOString();
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const actor = { type: 'user', id: randomUUID(), name: 'Ana' };
const received = (conversationId: string, text: string): PayloadOf<typeof MessageReceivedV1> => ({
  eventId: randomUUID(),
  occurredAt: now(),
  conversationId,
  phoneNumberId: '106540352242922',
  contactId: randomUUID(),
  messageId: randomUUID(),
  waMessageId: `wamid.${randomUUID()}`,
  direction: 'inbound',
  origin: 'customer',
  type: 'text',
  text,
  sentAt: new Date().toISOString(),
});
const assigned = (conversationId: string): PayloadOf<typeof ConversationAssignedV1> => ({
  eventId: randomUUID(),
  occurredAt: now(),
  conversationId,
  reason: 'claim',
  teamId: null,
  ownerId: actor.id,
  previousTeamId: null,
  previousOwnerId: null,
  note: null,
  actor,
  version: 2,
});
const note = (conversationId: string): PayloadOf<typeof NoteAddedV1> => ({
  eventId: randomUUID(),
  occurredAt: now(),
  conversationId,
  teamId: null,
  noteId: randomUUID(),
  author: actor,
  mentions: [],
});

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
}

describe('event webhooks for integrators (gateway, real PostgreSQL and NATS, a test HTTP receiver)', () => {
  let env: TestEnv;
  let cfg: GatewayConfig;
  let gateway: INestApplication;
  let receiver: Server;
  let base: string;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  let admin: Record<string, string>;
  let apiKey: Record<string, string>;
  let sender: EventSender;
  let clock: EventWebhookClock;
  const logs = new CapturedLogs();
  const hits: Hit[] = [];
  /** Status codes the receiver answers per path, in order (then 200). */
  const script = new Map<string, number[]>();
  const bodies: string[] = [];
  const secrets: string[] = [];
  const notices: PayloadOf<typeof NoticeRequestedV1>[] = [];
  const call = async (t: request.Test): Promise<request.Response> => {
    const res: request.Response = await t;
    bodies.push(res.text ?? '');
    return res;
  };
  const hitsOn = (path: string) => hits.filter((h) => h.path === path);
  const deliveriesOf = async (id: string) => (await call(http.get(`/api/v1/webhook-subscriptions/${id}/deliveries`).set(admin))).body.items;
  const subscribe = async (path: string, eventTypes: string[]) => {
    const r = await http.post('/api/v1/webhook-subscriptions').set(apiKey).send({ url: `${base}${path}`, eventTypes });
    expect(r.status).toBe(201);
    secrets.push(r.body.signingSecret);
    return r.body as { id: string; signingSecret: string };
  };

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        hits.push({ path: req.url ?? '', headers: req.headers, raw });
        const next = script.get(req.url ?? '')?.shift() ?? 200;
        res.writeHead(next).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    cfg = parseConfig(GatewayConfigSchema, {
      ...env.env,
      EVENT_WEBHOOK_SENDER: 'false',
      EVENT_WEBHOOK_HTTP_HOSTS: '127.0.0.1',
      EVENT_WEBHOOK_ALLOW_PRIVATE: 'true',
      EVENT_WEBHOOK_PAUSE_AFTER: '3',
      EVENT_WEBHOOK_RETRY_BASE_MS: '10000',
      EVENT_WEBHOOK_TIMEOUT_MS: '2000',
      EVENT_WEBHOOK_SETTLE_MS: '1000',
    });
    gateway = await startCapturedApp(GatewayModule.register(cfg), logs);
    sender = gateway.get(EventSender);
    clock = gateway.get(EventWebhookClock);
    now = () => clock.now().toISOString();
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    await peer.consume(NoticeRequestedV1, { durable: 'test-notices' }, async (n) => void notices.push(n));
    admin = { Authorization: `Bearer ${(await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken}` };
    apiKey = { 'X-Api-Key': (await http.post('/api/v1/api-keys').set(admin).send({ name: 'crm', scopes: ['webhooks:manage'] }).expect(201)).body.key };
  }, 120_000);
  afterAll(async () => {
    await peer?.close();
    await gateway?.close();
    await new Promise((r) => receiver?.close(r));
    await env?.cleanup();
  });

  it('refuses a target the URL policy does not allow with 400 naming the rule; other scopes get 403', async () => {
    const plain = await call(http.post('/api/v1/webhook-subscriptions').set(admin).send({ url: 'http://hooks.example.com/in', eventTypes: ['message.received'] }));
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({ details: { rule: 'https-only' } });
    expect(plain.body.message).toMatch(/rule "https-only"/);
    cfg.EVENT_WEBHOOK_ALLOW_PRIVATE = false;
    try {
      const loop = await call(http.post('/api/v1/webhook-subscriptions').set(admin).send({ url: `${base}/x`, eventTypes: ['message.received'] }));
      expect(loop.status).toBe(400);
      expect(loop.body.details.rule).toBe('public-address');
      expect(loop.body.message).toMatch(/127\.0\.0\.1, a private, loopback or link-local address/);
    } finally {
      cfg.EVENT_WEBHOOK_ALLOW_PRIVATE = true;
    }
    const badType = await call(http.post('/api/v1/webhook-subscriptions').set(admin).send({ url: `${base}/x`, eventTypes: ['message.nope'] }));
    expect(badType.status).toBe(400);
    const other = (await http.post('/api/v1/api-keys').set(admin).send({ name: 'sender', scopes: ['messages:send'] }).expect(201)).body.key;
    expect((await call(http.get('/api/v1/webhook-subscriptions').set('X-Api-Key', other))).status).toBe(403);
  });

  it('delivers signed events, in order per conversation, each with its event id; the receiver verifies them', async () => {
    const sub = await subscribe('/signed', ['message.received', 'conversation.assigned']);
    const conv = randomUUID();
    const m = received(conv, 'hola');
    const a = assigned(conv);
    await peer.publish(MessageReceivedV1, m);
    await peer.publish(ConversationAssignedV1, a);
    await peer.publish(NoteAddedV1, note(conv)); // not subscribed: never delivered
    await waitFor(async () => ((await deliveriesOf(sub.id)).length === 2 ? true : null), { what: 'two deliveries queued' });

    // nothing goes before EVENT_WEBHOOK_SETTLE_MS (an earlier event may still be on its way from another replica)
    expect(await sender.runOnce()).toBe(0);
    clock.advance(1_000);
    // one pass sends only the conversation's oldest event; the next one waits for it
    expect(await sender.runOnce()).toBe(1);
    expect(await sender.runOnce()).toBe(1);
    expect(await sender.runOnce()).toBe(0);
    const got = hitsOn('/signed');
    expect(got.map((h) => JSON.parse(h.raw).type)).toEqual(['message.received', 'conversation.assigned']);
    const now = Math.floor(clock.now().getTime() / 1000);
    for (const h of got) {
      expect(verifySwitchboardSignature(sub.signingSecret, String(h.headers['switchboard-signature']), h.raw, now)).toBe(true);
      expect(verifySwitchboardSignature('some-other-secret-123', String(h.headers['switchboard-signature']), h.raw, now)).toBe(false);
      expect(verifySwitchboardSignature(sub.signingSecret, String(h.headers['switchboard-signature']), `${h.raw} `, now)).toBe(false);
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['switchboard-event-id']).toBe(JSON.parse(h.raw).id);
    }
    expect(JSON.parse(got[0].raw)).toMatchObject({ id: m.eventId, type: 'message.received', occurredAt: m.occurredAt, data: { conversationId: conv, text: 'hola', messageId: m.messageId } });
    expect(JSON.parse(got[1].raw)).toMatchObject({ id: a.eventId, type: 'conversation.assigned', data: { conversationId: conv, ownerId: actor.id, reason: 'claim' } });
    const log = await deliveriesOf(sub.id);
    expect(log.map((d: { status: string; lastStatusCode: number }) => [d.status, d.lastStatusCode])).toEqual([
      ['delivered', 200],
      ['delivered', 200],
    ]);

    // the same event again (JetStream redelivery, a replayed publish) adds no delivery
    await peer.publish(MessageReceivedV1, m, { msgId: randomUUID() });
    await peer.publish(MessageReceivedV1, received(conv, 'second'));
    await waitFor(async () => ((await deliveriesOf(sub.id)).length === 3 ? true : null), { what: 'the new event queued' });
    clock.advance(1_000);
    expect(await sender.runOnce()).toBe(1);
    expect(await sender.runOnce()).toBe(0);
    expect((await deliveriesOf(sub.id)).length).toBe(3);
    await call(http.delete(`/api/v1/webhook-subscriptions/${sub.id}`).set(apiKey));
  });

  it('retries with exponential backoff until the receiver accepts; later events of the conversation wait their turn', async () => {
    const sub = await subscribe('/flaky', ['message.received']);
    script.set('/flaky', [500, 502]);
    const conv = randomUUID();
    await peer.publish(MessageReceivedV1, received(conv, 'first'));
    await peer.publish(MessageReceivedV1, received(conv, 'second'));
    await waitFor(async () => ((await deliveriesOf(sub.id)).length === 2 ? true : null), { what: 'two deliveries queued' });
    clock.advance(1_000);
    expect(await sender.runOnce()).toBe(1); // 500
    expect(await sender.runOnce()).toBe(0); // not due yet, and "second" waits for "first"
    clock.advance(9_000);
    expect(await sender.runOnce()).toBe(0);
    clock.advance(1_000);
    expect(await sender.runOnce()).toBe(1); // 502, next in 20 s
    clock.advance(19_000);
    expect(await sender.runOnce()).toBe(0);
    clock.advance(1_000);
    expect(await sender.runOnce()).toBe(1); // 200
    expect(await sender.runOnce()).toBe(1); // then "second"
    expect(hitsOn('/flaky').map((h) => JSON.parse(h.raw).data.text)).toEqual(['first', 'first', 'first', 'second']);
    const [second, first] = await deliveriesOf(sub.id);
    expect(first).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200 });
    expect(first.attemptLog.map((x: { statusCode: number }) => x.statusCode)).toEqual([500, 502, 200]);
    expect(second).toMatchObject({ status: 'delivered', attempts: 1 });
    expect((await call(http.get(`/api/v1/webhook-subscriptions/${sub.id}`).set(apiKey))).body).toMatchObject({ status: 'active', failureStreak: 0 });
    await call(http.delete(`/api/v1/webhook-subscriptions/${sub.id}`).set(apiKey));
  });

  it('pauses a subscription that keeps failing, tells the admins, and sends the queue once resumed; redeliver sends again', async () => {
    const sub = await subscribe('/down', ['note.added']);
    script.set('/down', [503, 503, 503]);
    const conv = randomUUID();
    await peer.publish(NoteAddedV1, note(conv));
    await waitFor(async () => ((await deliveriesOf(sub.id)).length === 1 ? true : null), { what: 'delivery queued' });
    for (const wait of [1_000, 10_000, 20_000]) {
      clock.advance(wait);
      expect(await sender.runOnce()).toBe(1);
    }
    const paused = (await call(http.get(`/api/v1/webhook-subscriptions/${sub.id}`).set(apiKey))).body;
    expect(paused).toMatchObject({ status: 'paused', failureStreak: 3 });
    expect(paused.pausedReason).toMatch(/3 failed deliveries in a row \(last: HTTP 503\)/);
    const notice = await waitFor(async () => notices.find((n) => n.data?.subscriptionId === sub.id) ?? null, { what: 'the pause notice' });
    const [{ id: adminId }] = (await call(http.get('/api/v1/users').set(admin))).body.items.filter((u: { role: string }) => u.role === 'admin');
    expect(notice).toMatchObject({ kind: 'system', audience: { userIds: [adminId] }, title: 'An event webhook was paused', source: 'gateway' });

    clock.advance(3_600_000);
    expect(await sender.runOnce()).toBe(0); // paused: nothing goes out
    await call(http.patch(`/api/v1/webhook-subscriptions/${sub.id}`).set(apiKey).send({ status: 'active' })).then((r) => expect(r.body).toMatchObject({ status: 'active', failureStreak: 0, pausedAt: null }));
    expect(await sender.runOnce()).toBe(1);
    const [d] = await deliveriesOf(sub.id);
    expect(d).toMatchObject({ status: 'delivered', attempts: 4, lastStatusCode: 200 });

    const again = await call(http.post(`/api/v1/webhook-subscriptions/${sub.id}/deliveries/${d.id}/redeliver`).set(apiKey));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: d.id, status: 'pending' });
    expect(await sender.runOnce()).toBe(1);
    const ids = hitsOn('/down').map((h) => h.headers['switchboard-event-id']);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(1); // the same event id every time: the receiver de-duplicates on it
    expect((await call(http.post(`/api/v1/webhook-subscriptions/${sub.id}/deliveries/${randomUUID()}/redeliver`).set(apiKey))).status).toBe(404);
  });

  it('gives a delivery up 24 h after its event (failed, kept in the log); the conversation\'s next event then goes', async () => {
    const sub = await subscribe('/gone', ['message.received']);
    script.set('/gone', [500, 500]);
    const conv = randomUUID();
    await peer.publish(MessageReceivedV1, received(conv, 'old'));
    await waitFor(async () => ((await deliveriesOf(sub.id)).length === 1 ? true : null), { what: 'delivery queued' });
    clock.advance(1_000);
    expect(await sender.runOnce()).toBe(1);
    clock.advance(24 * 3_600_000);
    await peer.publish(MessageReceivedV1, received(conv, 'new'));
    await waitFor(async () => ((await deliveriesOf(sub.id)).length === 2 ? true : null), { what: 'second delivery queued' });
    expect(await sender.runOnce()).toBe(1); // the old one, one last time
    const [, old] = await deliveriesOf(sub.id);
    expect(old).toMatchObject({ status: 'failed', attempts: 2, lastStatusCode: 500, lastError: 'HTTP 500' });
    clock.advance(1_000);
    expect(await sender.runOnce()).toBe(1);
    expect(hitsOn('/gone').map((h) => JSON.parse(h.raw).data.text)).toEqual(['old', 'old', 'new']);
    await call(http.delete(`/api/v1/webhook-subscriptions/${sub.id}`).set(apiKey));
  });

  it('re-checks the URL policy at send time (an address no longer allowed is not called)', async () => {
    const sub = await subscribe('/later', ['message.received']);
    await peer.publish(MessageReceivedV1, received(randomUUID(), 'x'));
    await waitFor(async () => ((await deliveriesOf(sub.id)).length === 1 ? true : null), { what: 'delivery queued' });
    clock.advance(1_000);
    cfg.EVENT_WEBHOOK_ALLOW_PRIVATE = false;
    try {
      expect(await sender.runOnce()).toBe(1);
    } finally {
      cfg.EVENT_WEBHOOK_ALLOW_PRIVATE = true;
    }
    expect(hitsOn('/later')).toHaveLength(0);
    const [d] = await deliveriesOf(sub.id);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(d.lastError).toMatch(/rule "public-address"/);
  });

  it('pages the subscription list and never returns a signing secret after creation, nor logs one', async () => {
    const first = await call(http.get('/api/v1/webhook-subscriptions?limit=1').set(apiKey));
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(http.get(`/api/v1/webhook-subscriptions?limit=1&cursor=${first.body.nextCursor}`).set(apiKey));
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    expect(second.body.items[0].secret).toEqual({ set: true, last4: expect.any(String) });
    expect((await call(http.get('/api/v1/webhook-subscriptions?cursor=garbage').set(apiKey))).status).toBe(400);
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const s of secrets) {
      for (const b of bodies) expect(b).not.toContain(s);
      for (const l of logs.lines) expect(l).not.toContain(s);
    }
  });
});
