import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { WebhookReceivedV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { SandboxConfigSchema } from '../../sandbox/src/config';
import { SandboxModule } from '../../sandbox/src/sandbox.module';
import { SandboxState } from '../../sandbox/src/graph/sandbox-state';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';

/**
 * Replies without duplicates, end to end: a customer writes in (webhook → ingest → routing, notifications opens the
 * 24 h window), agents reply through the gateway, notifications sends to the WhatsApp sandbox, which counts.
 * Attachments too: the gateway stores the file in ingest's media store, notifications uploads it to the sandbox's
 * `POST /{phone-number-id}/media` and sends the message with that media id; the timeline shows the stored file.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const NUMBER = '300000000000077';

describe('replies: gateway → routing → notifications → WhatsApp sandbox (real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  const apps: INestApplication[] = [];
  let gateway: INestApplication;
  let sandboxUrl: string;
  let sandboxState: SandboxState;
  let peer: NatsBus;
  let ds: DataSource;
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });
  const http = () => request(gateway.getHttpServer());
  const atSandbox = async (to: string) => (await request(sandboxUrl).get('/sandbox/sent').query({ to }).expect(200)).body.count as number;
  const sentTo = async (to: string) => (await request(sandboxUrl).get('/sandbox/sent').query({ to }).expect(200)).body.messages as { body: Record<string, any> }[];

  /** `ts`: when the customer wrote (ms; default now). Older than 24 h: the window is closed. */
  async function customerWrites(ts = Date.now()): Promise<{ id: string; waId: string }> {
    const waId = `1555${Math.floor(1e6 + Math.random() * 9e6)}`;
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '100000000000001',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550000077', phone_number_id: NUMBER },
                contacts: [{ profile: { name: 'Customer' }, wa_id: waId }],
                messages: [{ from: waId, id: `wamid.${randomUUID()}`, timestamp: String(Math.floor(ts / 1000)), type: 'text', text: { body: 'Hello?' } }],
              },
            },
          ],
        },
      ],
    });
    await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body });
    const conv = await waitFor(
      async () => {
        const res = await http().get('/api/v1/conversations?view=unassigned&limit=200').set(as('admin'));
        return res.body.items?.find((c: { contact: { waId: string } }) => c.contact.waId === waId) ?? null;
      },
      { what: 'conversation in the inbox' },
    );
    // notifications learns the conversation and its open window from ingest's events
    await waitFor(
      async () =>
        (await ds.query(
          `SELECT 1 FROM notifications.conversation_ref r JOIN notifications.service_window w USING (phone_number_id, contact_id) WHERE r.conversation_id = $1`,
          [conv.id],
        )).length > 0,
      { what: 'window open in notifications' },
    );
    return { id: conv.id, waId };
  }

  const reply = (who: string, id: string, key: string, text: string) =>
    http().post(`/api/v1/conversations/${id}/messages`).set(as(who)).set('Idempotency-Key', key).send({ text });

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/inbox-reply-${randomUUID()}`, ATTACHMENT_UPLOADS_MAX_CONCURRENT: '2' });
    const sandbox = await startApp(SandboxModule.register(parseConfig(SandboxConfigSchema, { NODE_ENV: 'test', SANDBOX_WEBHOOKS: 'false' })), { listen: true });
    apps.push(sandbox);
    sandboxUrl = (await sandbox.getUrl()).replace('[::1]', '127.0.0.1');
    sandboxState = sandbox.get(SandboxState);
    apps.push(await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, { ...env.env, GRAPH_API_BASE_URL: sandboxUrl }))));
    apps.push(await startApp(IngestModule.register(parseConfig(IngestConfigSchema, env.env))));
    apps.push(await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env))));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    apps.push(gateway);
    ds = gateway.get(DataSource);
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    tokens.admin = (await http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    const team = (await http().post('/api/v1/teams').set(as('admin')).send({ name: 'Sales' }).expect(201)).body.id;
    await http().put(`/api/v1/numbers/${NUMBER}/team`).set(as('admin')).send({ teamId: team }).expect(200);
    for (const [who, role] of [
      ['ana', 'agent'],
      ['ben', 'agent'],
      ['mara', 'manager'],
    ]) {
      await http()
        .post('/api/v1/users')
        .set(as('admin'))
        .send({ email: `${who}@example.test`, name: who.toUpperCase(), password: PASSWORD, role, teamIds: [team] })
        .expect(201);
      tokens[who] = (await http().post('/api/v1/auth/login').send({ email: `${who}@example.test`, password: PASSWORD }).expect(200)).body.accessToken;
    }
  }, 90_000);
  afterAll(async () => {
    await peer?.close();
    for (const a of apps.reverse()) await a.close();
    await env?.cleanup();
  });

  it('two agents reply at once: the sandbox receives exactly one message; takeover then reply works and is audited', async () => {
    const c = await customerWrites();
    const [a, b] = await Promise.all([reply('ana', c.id, 'ana-1', 'Hi, Ana here'), reply('ben', c.id, 'ben-1', 'Hi, Ben here')]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const [winner, loser] = a.status === 202 ? ['ana', b] : ['ben', a];
    expect(loser.body.message).toContain(`owned by ${winner.toUpperCase()} <${winner}@example.test>`);
    await waitFor(async () => (await atSandbox(c.waId)) === 1, { what: 'one message at the sandbox' });

    const state = (await http().get(`/api/v1/conversations/${c.id}`).set(as('mara')).expect(200)).body;
    expect(state.owner.name).toBe(winner.toUpperCase());
    await http().post(`/api/v1/conversations/${c.id}/takeover`).set(as('mara')).send({ version: state.version }).expect(200);
    await reply(winner, c.id, 'after-takeover', 'still me?').expect(409);
    await reply('mara', c.id, 'mara-1', 'Mara, the manager, here').expect(202);
    // notifications spaces two messages to one customer (pair limit), so this one can take a few seconds
    await waitFor(async () => (await atSandbox(c.waId)) === 2, { what: 'the manager’s message at the sandbox', timeoutMs: 25_000 });
    const actions = (await http().get(`/api/v1/audit?conversationId=${c.id}`).set(as('admin')).expect(200)).body.items.map(
      (e: { action: string }) => e.action,
    );
    expect(actions.reverse()).toEqual(['conversation.opened', 'conversation.claimed', 'conversation.takeover']);
  }, 60_000);

  it('a refused send changes no ownership: free-form outside the 24 h window or a bad template → 400, still unowned, no claim audited', async () => {
    const c = await customerWrites(Date.now() - 25 * 3600_000);
    const audit = async () =>
      (await http().get(`/api/v1/audit?conversationId=${c.id}`).set(as('admin')).expect(200)).body.items.map((e: { action: string }) => e.action).reverse();
    const before = (await http().get(`/api/v1/conversations/${c.id}`).set(as('ana')).expect(200)).body;
    expect(before.owner).toBeNull();
    const template = (who: string, key: string, name: string) =>
      http().post(`/api/v1/conversations/${c.id}/messages`).set(as(who)).set('Idempotency-Key', key).send({ template: { name, language: 'en_US' } });
    const late = await reply('ana', c.id, 'late-1', 'Sorry for the wait').expect(400);
    expect(late.body.message).toContain('only an approved template can be sent');
    const unknown = await template('ana', 'late-2', 'no_such_template').expect(400);
    expect(unknown.body.message).toContain('does not exist');
    const after = (await http().get(`/api/v1/conversations/${c.id}`).set(as('ana')).expect(200)).body;
    expect(after).toMatchObject({ owner: null, version: before.version });
    expect(await audit()).toEqual(['conversation.opened']);
    // Ben may still pick it up: an approved template goes, and only that send claims it
    const ok = await template('ben', 'late-3', 'hello_world').expect(202);
    expect(ok.body.claimed).toBe(true);
    expect((await http().get(`/api/v1/conversations/${c.id}`).set(as('ana')).expect(200)).body.owner.name).toBe('BEN');
    expect(await audit()).toEqual(['conversation.opened', 'conversation.claimed']);
    await waitFor(async () => (await atSandbox(c.waId)) === 1, { what: 'the template at the sandbox' });
    expect((await sentTo(c.waId)).map((m) => m.body.type)).toEqual(['template']);
  });

  it('the same Idempotency-Key sent 5 times at once: one message at the sandbox, every answer the same send', async () => {
    const c = await customerWrites();
    const results = await Promise.all(Array.from({ length: 5 }, () => reply('ana', c.id, 'same-key', 'Only once, please')));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(results.map((r) => r.body.sendId)).size).toBe(1);
    await waitFor(async () => (await atSandbox(c.waId)) === 1, { what: 'one message at the sandbox' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await atSandbox(c.waId)).toBe(1);
  });

  it('POST /api/v1/messages cannot get around ownership: people are sent to the conversation, keys never reply over an owner', async () => {
    const c = await customerWrites();
    const key = (await http().post('/api/v1/api-keys').set(as('admin')).send({ name: 'bot', scopes: ['messages:send'] }).expect(201)).body.key;
    const direct = (who: { token?: string; key?: string }, body: object, idem = randomUUID()) => {
      const r = http().post('/api/v1/messages').set('Idempotency-Key', idem);
      if (who.token) r.set('Authorization', `Bearer ${who.token}`);
      if (who.key) r.set('X-Api-Key', who.key);
      return r.send(body);
    };
    const text = { phoneNumberId: NUMBER, to: c.waId, type: 'text', text: { body: 'from the side door' }, conversationId: c.id };
    // an agent (who has messages:send through the role) must reply through the conversation
    const byAgent = await direct({ token: tokens.ana }, text).expect(403);
    expect(byAgent.body.message).toMatch(/POST \/api\/v1\/conversations\/:id\/messages/);
    // a key may not put a message to one customer into another customer's conversation
    await direct({ key }, { ...text, to: '15550009999' }).expect(400);
    await direct({ key }, { ...text, conversationId: randomUUID() }).expect(404);
    // once Ana owns it, the key is refused naming her
    await reply('ana', c.id, 'ana-own', 'Ana here').expect(202);
    const byKey = await direct({ key }, text).expect(409);
    expect(byKey.body.message).toContain('owned by ANA <ana@example.test>');
    await waitFor(async () => (await atSandbox(c.waId)) === 1, { what: 'Ana’s message at the sandbox' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await atSandbox(c.waId)).toBe(1);
  });

  it('an approved template instead of text: sent once with its parameters; bad template or parameter count → 400 in Meta’s words; non-owner 409', async () => {
    const c = await customerWrites();
    const send = (who: string, key: string, body: object) =>
      http().post(`/api/v1/conversations/${c.id}/messages`).set(as(who)).set('Idempotency-Key', key).send(body);
    const orderUpdate = { name: 'order_update', language: 'en_US', bodyParameters: ['Ana', 'A-1042', 'shipped'] };
    // the picker's list: approved ones only (not the REJECTED or PAUSED ones), with the body and its parameter count
    const listed = (await http().get(`/api/v1/conversations/${c.id}/templates`).set(as('ben')).expect(200)).body.items as Array<{ name: string; bodyParameterCount: number; body: string }>;
    expect(listed.map((t) => t.name)).toEqual(['hello_world', 'order_update', 'sample_shipping_confirmation']);
    expect(listed[1]).toEqual({ name: 'order_update', language: 'en_US', category: 'UTILITY', body: 'Hi {{1}}, your order {{2}} is now {{3}}.', bodyParameterCount: 3 });
    await http().get(`/api/v1/conversations/${randomUUID()}/templates`).set(as('ben')).expect(404);
    // exactly one of text or template
    expect((await send('ana', 't-both', { text: 'hi', template: orderUpdate }).expect(400)).body.message).toContain('exactly one of text or template');
    await send('ana', 't-none', {}).expect(400);
    await send('ana', 't-empty-param', { template: { ...orderUpdate, bodyParameters: ['Ana', '', 'x'] } }).expect(400);
    // the template's rules come from notifications (synced from Meta), nothing is queued
    expect((await send('ana', 't-count', { template: { ...orderUpdate, bodyParameters: ['Ana'] } }).expect(400)).body.message).toContain(
      'expects 3 body parameter(s), got 1',
    );
    expect((await send('ana', 't-unknown', { template: { name: 'no_such_template', language: 'en_US' } }).expect(400)).body.message).toContain('does not exist');
    expect((await send('ana', 't-paused', { template: { name: 'seasonal_promo', language: 'en_US', bodyParameters: ['x'] } }).expect(400)).body.message).toContain(
      'not APPROVED',
    );
    // the owner sends it; the same key twice is one send
    const first = await send('ana', 't-ok', { template: orderUpdate }).expect(202);
    expect((await send('ana', 't-ok', { template: orderUpdate }).expect(202)).body.sendId).toBe(first.body.sendId);
    // someone else may not send a template over the owner
    expect((await send('ben', 't-ben', { template: orderUpdate }).expect(409)).body.message).toContain('owned by ANA <ana@example.test>');
    await waitFor(async () => (await atSandbox(c.waId)) === 1, { what: 'the template at the sandbox' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await atSandbox(c.waId)).toBe(1);
    const sent = (await request(sandboxUrl).get('/sandbox/sent').query({ to: c.waId }).expect(200)).body.messages as { body: { type: string; template?: { name: string } } }[];
    expect(sent.map((m) => [m.body.type, m.body.template?.name])).toEqual([['template', 'order_update']]);
  });

  it('read receipts and the typing indicator come only from the owner, and a reply marks the customer’s message read', async () => {
    const c = await customerWrites();
    const reads = async () =>
      ((await request(sandboxUrl).get('/sandbox/reads').query({ phoneNumberId: NUMBER }).expect(200)).body.items as { messageId: string; typing: boolean }[]);
    const before = (await reads()).length;
    // nobody owns it yet: nothing is shown to the customer
    await http().post(`/api/v1/conversations/${c.id}/read`).set(as('ben')).send({ typing: true }).expect(409);
    await http().post(`/api/v1/conversations/${c.id}/claim`).set(as('ana')).send({ version: 1 }).expect(200);
    // Ben is not the owner: refused naming Ana
    const notOwner = await http().post(`/api/v1/conversations/${c.id}/read`).set(as('ben')).send({ typing: true }).expect(409);
    expect(notOwner.body.message).toContain('owned by ANA <ana@example.test>');
    const typing = await http().post(`/api/v1/conversations/${c.id}/read`).set(as('ana')).send({ typing: true }).expect(200);
    expect(typing.body).toMatchObject({ done: true, waMessageId: expect.stringMatching(/^wamid\./) });
    await reply('ana', c.id, 'ana-read', 'Looking into it').expect(202);
    const after = await waitFor(async () => {
      const r = (await reads()).slice(before);
      return r.length >= 2 ? r : undefined;
    }, { what: 'typing indicator and read receipt at the sandbox' });
    expect(after.map((r) => [r.messageId, r.typing])).toEqual([
      [typing.body.waMessageId, true],
      [typing.body.waMessageId, false],
    ]);
  });

  describe('attachments (POST /api/v1/conversations/:id/attachments)', () => {
    const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('a tiny picture '.repeat(40_000))]); // ~600 KB: two bus chunks
    const attach = (who: string, id: string, key: string, file: { data: Buffer; name: string; type: string }, fields: Record<string, string> = {}) => {
      const r = http().post(`/api/v1/conversations/${id}/attachments`).set(as(who)).set('Idempotency-Key', key);
      for (const [k, v] of Object.entries(fields)) r.field(k, v);
      return r.attach('file', file.data, { filename: file.name, contentType: file.type });
    };
    const claim = async (who: string, id: string) => {
      const v = (await http().get(`/api/v1/conversations/${id}`).set(as(who)).expect(200)).body.version;
      await http().post(`/api/v1/conversations/${id}/claim`).set(as(who)).send({ version: v }).expect(200);
    };

    it('the owner sends an image with a caption: the sandbox gets the upload and one image message with its media id; the timeline shows the file', async () => {
      const c = await customerWrites();
      await claim('ana', c.id);
      const sent = await attach('ana', c.id, 'pic-1', { data: PNG, name: 'receipt.png', type: 'image/png' }, { caption: 'Your receipt' }).expect(202);
      expect(sent.body).toMatchObject({ type: 'image', status: 'queued', duplicate: false });
      // the same key again (a retry): the first result, nothing sent twice
      const again = await attach('ana', c.id, 'pic-1', { data: PNG, name: 'receipt.png', type: 'image/png' }, { caption: 'Your receipt' }).expect(202);
      expect(again.body).toMatchObject({ sendId: sent.body.sendId, duplicate: true });

      const [msg] = await waitFor(async () => ((await sentTo(c.waId)).length === 1 ? sentTo(c.waId) : null), { what: 'the image at the sandbox' });
      expect(msg.body).toMatchObject({ type: 'image', to: c.waId, image: { caption: 'Your receipt' } });
      expect(msg.body.image.upload_id).toBeUndefined();
      const uploaded = sandboxState.media.get(msg.body.image.id);
      expect(uploaded).toMatchObject({ phoneNumberId: NUMBER, mimeType: 'image/png' });
      expect(Buffer.compare(uploaded!.data, PNG)).toBe(0);

      // the agent's timeline: an outbound image whose stored file is the one sent
      const out = await waitFor(
        async () => {
          const items = (await http().get(`/api/v1/conversations/${c.id}/messages`).set(as('ben')).expect(200)).body.items as any[];
          return items.find((m) => m.direction === 'outbound' && m.type === 'image' && m.media?.state === 'stored') ?? null;
        },
        { what: 'the image in the timeline' },
      );
      expect(out.content.image.caption).toBe('Your receipt');
      const file = await http().get(`/api/v1/media/${out.id}`).set(as('ben')).buffer(true).parse((res, cb) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => cb(null, Buffer.concat(parts)));
      }).expect(200);
      expect(file.headers['content-type']).toBe('image/png');
      expect(Buffer.compare(file.body as Buffer, PNG)).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      expect(await sentTo(c.waId)).toHaveLength(1);
    }, 60_000);

    it('a PDF goes out as a document with its file name; audio cannot have a caption', async () => {
      const c = await customerWrites();
      await claim('ana', c.id);
      await attach('ana', c.id, 'voice-1', { data: Buffer.from('ID3 not really mp3'), name: 'note.mp3', type: 'audio/mpeg' }, { caption: 'hear this' })
        .expect(400)
        .expect((r) => expect(r.body.message).toMatch(/caption/));
      const pdf = Buffer.from('%PDF-1.4 a small invoice');
      await attach('ana', c.id, 'doc-1', { data: pdf, name: 'invoice 42.pdf', type: 'application/pdf' }).expect(202)
        .expect((r) => expect(r.body.type).toBe('document'));
      const [msg] = await waitFor(async () => ((await sentTo(c.waId)).length === 1 ? sentTo(c.waId) : null), { what: 'the document at the sandbox' });
      expect(msg.body).toMatchObject({ type: 'document', document: { filename: 'invoice 42.pdf' } });
      expect(sandboxState.media.get(msg.body.document.id)?.mimeType).toBe('application/pdf');
    });

    it('too big → 413, a type WhatsApp refuses → 400, no file or no key → 400, a non-owner → 409 naming the owner: nothing reaches the customer', async () => {
      const c = await customerWrites();
      await claim('ana', c.id);
      const big = await attach('ana', c.id, 'big-1', { data: Buffer.alloc((5 << 20) + 1, 1), name: 'huge.jpg', type: 'image/jpeg' }).expect(413);
      expect(big.body.message).toMatch(/at most 5242880 bytes/);
      const zip = await attach('ana', c.id, 'zip-1', { data: Buffer.from('PK zip'), name: 'a.zip', type: 'application/zip' }).expect(400);
      expect(zip.body.message).toMatch(/does not accept application\/zip/);
      await http().post(`/api/v1/conversations/${c.id}/attachments`).set(as('ana')).set('Idempotency-Key', 'none-1').field('caption', 'x').expect(400);
      await http().post(`/api/v1/conversations/${c.id}/attachments`).set(as('ana')).attach('file', PNG, { filename: 'a.png', contentType: 'image/png' }).expect(400);
      const notOwner = await attach('ben', c.id, 'ben-1', { data: PNG, name: 'a.png', type: 'image/png' }).expect(409);
      expect(notOwner.body.message).toContain('owned by ANA <ana@example.test>');
      // another file under a used key is refused, not sent
      await attach('ana', c.id, 'same-key', { data: PNG, name: 'a.png', type: 'image/png' }).expect(202);
      const other = await attach('ana', c.id, 'same-key', { data: Buffer.from('%PDF other'), name: 'b.pdf', type: 'application/pdf' }).expect(409);
      expect(other.body.message).toMatch(/different/);
      await waitFor(async () => (await sentTo(c.waId)).length === 1, { what: 'the one accepted file at the sandbox' });
      await new Promise((r) => setTimeout(r, 500));
      expect((await sentTo(c.waId)).map((m) => m.body.type)).toEqual(['image']);
    }, 60_000);

    const openUploads: ClientRequest[] = [];
    afterAll(() => openUploads.forEach((r) => r.destroy())); // a failed test leaves none open (the gateway's close would wait)

    /** A multipart upload that declares `declared` bytes but sends only the part's headers and 1 KB, then waits. */
    async function partialUpload(who: string, id: string, key: string, type: string, declared: number) {
      const server = gateway.getHttpServer();
      if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const boundary = 'partial-upload-boundary';
      const req: ClientRequest = httpRequest({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        method: 'POST',
        path: `/api/v1/conversations/${id}/attachments`,
        headers: { Authorization: `Bearer ${tokens[who]}`, 'Idempotency-Key': key, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(declared) },
      });
      let answer: { status: number; body: any; headers: IncomingHttpHeaders } | null = null;
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => (answer = { status: res.statusCode!, body: JSON.parse(text || '{}'), headers: res.headers }));
      });
      req.on('error', () => undefined); // destroyed by the test
      openUploads.push(req);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: ${type}\r\n\r\n`);
      req.write(Buffer.alloc(1024, 1));
      return { req, answer: () => answer };
    }

    it('too big is refused by the declared length: over any type’s limit at once, an image over 5 MB as soon as its part starts (the rest is discarded, not kept)', async () => {
      const c = await customerWrites();
      await claim('ana', c.id);
      // an "image" declared at 50 MB (images: 5 MB): refused when its part header is read (see upload-admission.spec.ts);
      // multer then discards the rest of the body unread before answering, so the client gets the 413 without EPIPE
      const image = await partialUpload('ana', c.id, 'early-1', 'image/jpeg', 50 << 20);
      const rest = (50 << 20) - 1024 - Buffer.byteLength(`--partial-upload-boundary\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: image/jpeg\r\n\r\n`);
      const mb = Buffer.alloc(1 << 20);
      for (let left = rest; left > 0; left -= mb.length) if (!image.req.write(left >= mb.length ? mb : mb.subarray(0, left))) await new Promise((r) => image.req.once('drain', r));
      image.req.end();
      const refused = await waitFor(async () => image.answer(), { what: '413 for the 50 MB image' });
      expect(refused).toMatchObject({ status: 413, body: { message: expect.stringContaining('at most 5242880 bytes') } });
      // larger than any accepted file (documents: 100 MB): refused before multer reads anything, while most of it was never sent
      const huge = await partialUpload('ana', c.id, 'early-2', 'application/pdf', 200 << 20);
      expect(await waitFor(async () => huge.answer(), { what: '413 for a 200 MB body' })).toMatchObject({ status: 413 });
      huge.req.destroy();
      // a 50 MB document is within its limit: it is read (no answer while the rest has not come)
      const doc = await partialUpload('ana', c.id, 'early-3', 'application/pdf', 50 << 20);
      await new Promise((r) => setTimeout(r, 300));
      expect(doc.answer()).toBeNull();
      doc.req.destroy();
      expect(await sentTo(c.waId)).toEqual([]);
    }, 60_000);

    it('at most ATTACHMENT_UPLOADS_MAX_CONCURRENT (2 here) uploads at once per replica: the next is 503 with Retry-After; a slot frees when an upload ends', async () => {
      const c = await customerWrites();
      await claim('ana', c.id);
      // ben is not the owner: when admitted his upload is refused with 409 (nothing is sent), when over the cap 503
      const ben = () => attach('ben', c.id, `ben-${randomUUID()}`, { data: PNG, name: 'a.png', type: 'image/png' });
      await ben().expect(409);
      const slow = [await partialUpload('ana', c.id, 'slow-1', 'image/png', 1 << 20), await partialUpload('ana', c.id, 'slow-2', 'image/png', 1 << 20)];
      const over = await waitFor(async () => {
        const r = await ben();
        return r.status === 503 ? r : null;
      }, { what: 'the third upload refused' });
      expect(over.headers['retry-after']).toBe('5');
      expect(over.body.message).toContain('too many uploads');
      slow[0].req.destroy(); // the client gives up: its slot is freed
      await waitFor(async () => (await ben()).status === 409, { what: 'a slot free again' });
      slow[1].req.destroy();
      expect(await sentTo(c.waId)).toEqual([]);
    }, 60_000);
  });
});
