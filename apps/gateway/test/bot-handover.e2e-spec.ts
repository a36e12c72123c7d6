import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import WebSocket from 'ws';
import { parseConfig } from '@app/config';
import { SetNumberBotV1, WebhookReceivedV1 } from '@app/contracts';
import { DataSource } from 'typeorm';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor as waitForAtMost, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { SandboxConfigSchema } from '../../sandbox/src/config';
import { SandboxModule } from '../../sandbox/src/sandbox.module';
import { ManualClock } from '../../sla/src/clock/clock';
import { SlaConfigSchema } from '../../sla/src/config';
import { SlaModule } from '../../sla/src/sla.module';
import { textWebhook } from '../../../test/support/webhooks';

/**
 * Bot handover (issue 14, item 7), every service on the real PostgreSQL and NATS, the sandbox as Meta: a bot (an API
 * key with the `bot` scope) holds a conversation — routing assigns nobody, SLA does not breach — replies (the sandbox
 * gets it), hands over to a team with a summary note → the team's strategy gives it to an agent, whose feed gets the
 * customer's next message; agents take conversations back; agents cannot act as bots and bots only act on what they hold.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const NUMBER = '106540352277042';
const BOT_NUMBER = '106540352277043';
const TOKEN = 'EAAG-bot-handover-token';
const MIN = 60_000;
/** Generous deadlines: the machine is shared, and every wait here ends as soon as its condition holds. */
const waitFor: typeof waitForAtMost = (fn, opts = {}) => waitForAtMost(fn, { ...opts, timeoutMs: Math.max(opts.timeoutMs ?? 0, 45_000) });

interface Frame {
  type: string;
  event?: string;
  conversationId?: string | null;
  data?: any;
}

describe('bot handover (gateway, ingest, routing, sla, notifications, sandbox; real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  const apps: INestApplication[] = [];
  let sandbox: INestApplication;
  let gateway: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  let wsBase: string;
  const clock = new ManualClock();
  const auth: Record<string, Record<string, string>> = {};
  const ids: Record<string, string> = {};
  const teams: Record<string, string> = {};
  const sockets: WebSocket[] = [];

  async function customerWrites(waId: string, text: string, phoneNumberId = NUMBER): Promise<void> {
    const body = textWebhook({ phoneNumberId, from: waId, text, ts: Math.floor(Date.now() / 1000) });
    await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body });
  }

  /** A new customer writes; the conversation waits in the front desk's (manual) queue with a running SLA clock. */
  async function newConversation(): Promise<{ id: string; waId: string; version: number }> {
    const waId = `49${Math.floor(1e9 + Math.random() * 9e9)}`;
    await customerWrites(waId, 'Hi, where is my order?');
    const c = await waitFor(
      async () => (await http.get('/api/v1/conversations?view=all&limit=200').set(auth.admin)).body.items?.find((x: any) => x.contact.waId === waId) ?? null,
      { what: 'conversation', timeoutMs: 20_000 },
    );
    await waitFor(async () => (await http.get(`/api/v1/conversations/${c.id}`).set(auth.admin)).body.sla?.firstResponse?.dueAt, { what: 'sla clock running' });
    return { id: c.id, waId, version: c.version };
  }

  const get = async (id: string, who = 'admin') => (await http.get(`/api/v1/conversations/${id}`).set(auth[who]).expect(200)).body;

  function socket(who: string): Promise<{ frames: Frame[] }> {
    const ws = new WebSocket(`${wsBase}/api/v1/realtime?access_token=${auth[who].Authorization.slice(7)}`);
    sockets.push(ws);
    const s = { frames: [] as Frame[] };
    ws.on('message', (d) => s.frames.push(JSON.parse(String(d))));
    return new Promise((resolve, reject) => {
      ws.on('open', () => resolve(s));
      ws.on('error', reject);
    });
  }

  beforeAll(async () => {
    clock.set(Date.now());
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/bot-handover-${randomUUID()}`, SLA_TIMER_POLL_MS: '30', SLA_LATE_CLOCK_GRACE_MS: '0' }); // the clock jumps past due times: judge at once
    sandbox = await startApp(
      SandboxModule.register(parseConfig(SandboxConfigSchema, { NODE_ENV: 'test', SANDBOX_ACCESS_TOKEN: TOKEN, SANDBOX_WEBHOOKS: 'false', SANDBOX_PAIR_INTERVAL_MS: '0' })),
      { listen: true },
    );
    const graph = { GRAPH_API_BASE_URL: `http://127.0.0.1:${(sandbox.getHttpServer().address() as AddressInfo).port}`, WHATSAPP_ACCESS_TOKEN: TOKEN };
    apps.push(await startApp(IngestModule.register(parseConfig(IngestConfigSchema, { ...env.env, ...graph }))));
    apps.push(await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env))));
    apps.push(await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env), { clock })));
    apps.push(await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, { ...env.env, ...graph, OUTBOUND_POLL_MS: '20', TEMPLATE_SYNC_INTERVAL_MS: '3600000' }))));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)), { listen: true });
    apps.push(gateway);
    wsBase = `ws://127.0.0.1:${(gateway.getHttpServer().address() as AddressInfo).port}`;
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });

    auth.admin = { Authorization: `Bearer ${(await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken}` };
    for (const name of ['Front desk', 'Support']) teams[name] = (await http.post('/api/v1/teams').set(auth.admin).send({ name }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${NUMBER}/team`).set(auth.admin).send({ teamId: teams['Front desk'] }).expect(200);
    await http.put(`/api/v1/teams/${teams.Support}/routing`).set(auth.admin).send({ strategy: 'round_robin' }).expect(200);
    for (const teamId of Object.values(teams))
      await http.post('/api/v1/sla/policies').set(auth.admin).send({ name: 'Standard', teamId, firstResponseMinutes: 15 }).expect(201);
    for (const [who, team] of [
      ['ana', 'Support'],
      ['frank', 'Front desk'],
    ]) {
      ids[who] = (
        await http.post('/api/v1/users').set(auth.admin).send({ email: `${who}@example.test`, name: who, password: PASSWORD, role: 'agent', teamIds: [teams[team]] }).expect(201)
      ).body.id;
      auth[who] = { Authorization: `Bearer ${(await http.post('/api/v1/auth/login').send({ email: `${who}@example.test`, password: PASSWORD }).expect(200)).body.accessToken}` };
    }
    const key = async (name: string, scopes: string[]) => ({ 'X-Api-Key': (await http.post('/api/v1/api-keys').set(auth.admin).send({ name, scopes }).expect(201)).body.key as string });
    auth.bot = await key('Helper bot', ['bot', 'conversations:read', 'messages:send']);
    auth.otherBot = await key('Other bot', ['bot', 'conversations:read', 'messages:send']);
    auth.crm = await key('crm', ['conversations:read', 'conversations:write', 'messages:send']);
    ids.bot = (await http.get('/api/v1/me').set(auth.bot).expect(200)).body.id;
  }, 120_000);

  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await peer?.close();
    for (const a of apps.reverse()) await a.close();
    await sandbox?.close();
    await env?.cleanup();
  });

  it('a bot hands over and the next customer message reaches the human owner’s feed', async () => {
    expect((await http.get('/api/v1/me').set(auth.bot).expect(200)).body).toMatchObject({ kind: 'bot', name: 'Helper bot' });
    const c = await newConversation();
    const control = await newConversation(); // same policy, not held: it must breach when the clock jumps

    // the bot holds it: no owner, in no queue, the SLA clock paused
    const held = (await http.post(`/api/v1/conversations/${c.id}/bot`).set(auth.bot).send({ version: c.version }).expect(200)).body;
    expect(held).toMatchObject({ ownerId: null, teamId: teams['Front desk'], bot: { id: ids.bot, name: 'Helper bot' } });
    expect((await http.post(`/api/v1/conversations/${c.id}/bot`).set(auth.bot).send({}).expect(200)).body.version).toBe(held.version); // again: no change
    expect((await get(c.id, 'frank')).bot).toMatchObject({ id: ids.bot, name: 'Helper bot' });
    const queue = (await http.get(`/api/v1/teams/${teams['Front desk']}/queue`).set(auth.admin).expect(200)).body.items.map((i: any) => i.conversationId);
    expect(queue).toContain(control.id);
    expect(queue).not.toContain(c.id);
    const unassigned = (await http.get('/api/v1/conversations?view=unassigned').set(auth.frank).expect(200)).body.items.map((i: any) => i.id);
    expect(unassigned).not.toContain(c.id);
    await waitFor(async () => (await get(c.id)).sla.firstResponse.dueAt === null, { what: 'first-response clock paused while the bot holds it' });

    // the clock jumps past the due time: the control conversation breaches, the bot's does not
    clock.advance(60 * MIN);
    await waitFor(async () => (await get(control.id)).sla.firstResponse.state === 'breached', { what: 'control conversation breached' });
    expect((await get(c.id)).sla.firstResponse).toMatchObject({ state: 'ok', dueAt: null });

    // the bot replies through the normal reply route; it reaches the sandbox
    const reply = await waitFor(
      async () => {
        const r = await http.post(`/api/v1/conversations/${c.id}/messages`).set(auth.bot).set('Idempotency-Key', 'bot-1').send({ text: 'Your order ships today.' });
        return r.status === 202 ? r : null;
      },
      { what: 'bot reply accepted', timeoutMs: 20_000 },
    );
    expect(reply.body).toMatchObject({ claimed: false });
    const sent = await waitFor(
      async () => (await request(sandbox.getHttpServer()).get(`/sandbox/sent?phoneNumberId=${NUMBER}`)).body.messages.find((m: any) => m.to === c.waId) ?? null,
      { what: 'bot reply at the sandbox', timeoutMs: 20_000 },
    );
    expect(sent.body.text.body).toBe('Your order ships today.');

    // nobody replies over the bot; only bots hold and hand over
    const agentReply = await http.post(`/api/v1/conversations/${c.id}/messages`).set(auth.frank).set('Idempotency-Key', 'frank-1').send({ text: 'Hello from Frank' }).expect(409);
    expect(agentReply.body.message).toMatch(/held by bot "Helper bot".*take it back/);
    expect((await http.post(`/api/v1/conversations/${c.id}/claim`).set(auth.frank).send({ version: held.version }).expect(409)).body.message).toMatch(/held by bot/);
    const crmSend = await http
      .post('/api/v1/messages')
      .set(auth.crm)
      .set('Idempotency-Key', 'crm-1')
      .send({ phoneNumberId: NUMBER, to: c.waId, conversationId: c.id, type: 'text', text: { body: 'CRM says hi' } })
      .expect(409);
    expect(crmSend.body.message).toMatch(/held by bot "Helper bot"/);
    expect((await http.post(`/api/v1/conversations/${c.id}/handover`).set(auth.frank).send({ teamId: teams.Support, note: 'x' }).expect(403)).body.message).toMatch(/needs bot/);
    expect((await http.post(`/api/v1/conversations/${c.id}/bot`).set(auth.crm).send({}).expect(403)).body.message).toMatch(/needs bot/);
    expect((await http.post(`/api/v1/conversations/${c.id}/bot`).set(auth.otherBot).send({}).expect(409)).body.message).toMatch(/held by bot "Helper bot"/);
    expect((await http.post(`/api/v1/conversations/${c.id}/handover`).set(auth.otherBot).send({ teamId: teams.Support, note: 'mine now' }).expect(409)).body.message).toMatch(
      /only the bot holding it/,
    );
    expect((await http.post(`/api/v1/conversations/${c.id}/handover`).set(auth.bot).send({ teamId: teams.Support }).expect(400)).body.message).toMatch(/note/);
    expect((await http.post(`/api/v1/conversations/${c.id}/handover`).set(auth.bot).send({ teamId: randomUUID(), note: 'x' }).expect(400)).body.message).toMatch(/does not exist/);

    // Ana (Support) is online with the web client open
    const anaFeed = await socket('ana');
    await waitFor(async () => (await http.put('/api/v1/me/status').set(auth.ana).send({ status: 'online' })).status === 200, { what: 'ana online' });

    // the handover: a summary note, routed to Support, whose round robin gives it to Ana
    const note = 'Customer asks about order #4711; tracking sent, wants to change the address.';
    const handed = (await http.post(`/api/v1/conversations/${c.id}/handover`).set(auth.bot).send({ teamId: teams.Support, note }).expect(200)).body;
    expect(handed).toMatchObject({ bot: null, teamId: teams.Support, status: 'open' });
    const owned = await waitFor(async () => ((await get(c.id)).owner?.id === ids.ana ? get(c.id) : null), { what: 'routed to Ana' });
    expect(owned).toMatchObject({ bot: null, team: { id: teams.Support } });
    const timeline = (await http.get(`/api/v1/conversations/${c.id}/timeline`).set(auth.ana).expect(200)).body.items;
    expect(timeline.find((i: any) => i.kind === 'note')?.note).toMatchObject({ body: note, author: { type: 'bot', id: ids.bot, name: 'Helper bot' } });
    const audit = timeline.filter((i: any) => i.kind === 'event').map((i: any) => i.event);
    const handoverEntry = audit.find((e: any) => e.action === 'conversation.bot-handover');
    expect(audit.find((e: any) => e.action === 'conversation.bot-held')).toMatchObject({ actor: { type: 'bot', id: ids.bot }, before: { bot: null }, after: { bot: { id: ids.bot } } });
    expect(handoverEntry).toMatchObject({ actor: { type: 'bot', id: ids.bot }, note, before: { bot: { id: ids.bot }, teamId: teams['Front desk'] }, after: { bot: null, teamId: teams.Support } });
    expect(audit.find((e: any) => e.action === 'conversation.routed')?.after).toMatchObject({ ownerId: ids.ana });

    // the SLA clock runs from the handover (the held hour is paused time)
    const running = await waitFor(async () => (await get(c.id)).sla.firstResponse?.dueAt ?? null, { what: 'clock running after the handover' });
    expect(Date.parse(running)).toBeGreaterThan(clock.now().getTime() + 10 * MIN);
    expect((await get(c.id)).sla.firstResponse.state).toBe('ok');

    // the bot no longer acts on it
    expect((await http.post(`/api/v1/conversations/${c.id}/messages`).set(auth.bot).set('Idempotency-Key', 'bot-2').send({ text: 'still me' }).expect(409)).body.message).toMatch(
      /owned by ana/,
    );
    expect((await http.post(`/api/v1/conversations/${c.id}/handover`).set(auth.bot).send({ teamId: teams.Support, note: 'again' }).expect(409)).body.message).toMatch(/not held by a bot/);

    // the customer's next message: in Ana's feed (WebSocket and her list), not among the bot's conversations
    await customerWrites(c.waId, 'Can you send it to my office instead?');
    const frame = await waitFor(() => anaFeed.frames.find((f) => f.type === 'event' && f.event === 'message.created' && f.conversationId === c.id && f.data?.text === 'Can you send it to my office instead?'), {
      what: 'the next message on Ana’s WebSocket',
      timeoutMs: 20_000,
    });
    expect(frame).toBeDefined();
    // the list is routing's projection, updated from the same event a moment after the WebSocket frame
    const inMine = await waitFor(
      async () => {
        const item = (await http.get('/api/v1/conversations?view=mine').set(auth.ana).expect(200)).body.items.find((i: any) => i.id === c.id);
        return item?.lastMessageText === 'Can you send it to my office instead?' ? item : undefined;
      },
      { what: 'the next message in Ana’s list', timeoutMs: 20_000 },
    );
    expect(inMine).toMatchObject({ owner: { id: ids.ana } });
    expect((await http.get('/api/v1/conversations?view=mine').set(auth.bot).expect(200)).body.items.map((i: any) => i.id)).not.toContain(c.id);
    // and Ana replies as its owner
    await http.post(`/api/v1/conversations/${c.id}/messages`).set(auth.ana).set('Idempotency-Key', 'ana-1').send({ text: 'Sure, done.' }).expect(202);
  }, 240_000);

  it('a number whose conversations go to a bot first: the bot holds them before any strategy; revoking the key gives them back to the team', async () => {
    await http.put(`/api/v1/numbers/${BOT_NUMBER}/team`).set(auth.admin).send({ teamId: teams.Support }).expect(200);
    const anaFeed = await socket('ana'); // Ana is online: the Support strategy would give her any new conversation
    await waitFor(async () => (await http.put('/api/v1/me/status').set(auth.ana).send({ status: 'online' })).status === 200, { what: 'ana online' });
    const numberBot = (await http.post('/api/v1/api-keys').set(auth.admin).send({ name: 'Number bot', scopes: ['bot', 'conversations:read', 'messages:send'] }).expect(201)).body;
    const botKeyId: string = numberBot.id;
    const crmKeyId = (await http.get('/api/v1/api-keys').set(auth.admin).expect(200)).body.items.find((k: any) => k.name === 'crm').id;
    expect((await http.put(`/api/v1/numbers/${BOT_NUMBER}/bot`).set(auth.admin).send({ apiKeyId: crmKeyId }).expect(400)).body.message).toMatch(/"crm" has no bot scope/);
    expect((await http.put(`/api/v1/numbers/${BOT_NUMBER}/bot`).set(auth.admin).send({ apiKeyId: randomUUID() }).expect(400)).body.message).toMatch(/does not exist/);
    await http.put(`/api/v1/numbers/${BOT_NUMBER}/bot`).set(auth.ana).send({ apiKeyId: botKeyId }).expect(403);
    expect((await http.put(`/api/v1/numbers/${BOT_NUMBER}/bot`).set(auth.admin).send({ apiKeyId: botKeyId }).expect(200)).body).toMatchObject({ bot: { id: botKeyId, name: 'Number bot' } });

    const waId = `49${Math.floor(1e9 + Math.random() * 9e9)}`;
    await customerWrites(waId, 'Hello bot?', BOT_NUMBER);
    const c = await waitFor(
      async () => (await http.get('/api/v1/conversations?view=all&limit=200').set(auth.admin)).body.items?.find((x: any) => x.contact.waId === waId && x.bot) ?? null,
      { what: 'conversation held by the number’s bot', timeoutMs: 20_000 },
    );
    expect(c).toMatchObject({ owner: null, bot: { id: botKeyId, name: 'Number bot' }, team: { id: teams.Support } });
    const audit = (await http.get(`/api/v1/audit?conversationId=${c.id}`).set(auth.admin).expect(200)).body.items;
    expect(audit.find((e: any) => e.action === 'conversation.bot-held')).toMatchObject({ actor: { type: 'system' }, after: { bot: { id: botKeyId }, ownerId: null } });
    expect(audit.find((e: any) => e.action === 'conversation.routed')).toBeUndefined();
    expect((await http.get('/api/v1/conversations?view=mine').set('X-Api-Key', numberBot.key).expect(200)).body.items.map((i: any) => i.id)).toContain(c.id);

    // the key is revoked: the number's route goes, the conversation goes back to Support, whose strategy gives it to Ana
    await http.delete(`/api/v1/api-keys/${botKeyId}`).set(auth.admin).expect(200);
    const released = await waitFor(async () => ((await get(c.id)).owner?.id === ids.ana ? get(c.id) : null), { what: 'released and routed to Ana', timeoutMs: 20_000 });
    expect(released.bot).toBeNull();
    const after = (await http.get(`/api/v1/audit?conversationId=${c.id}`).set(auth.admin).expect(200)).body.items.map((e: any) => e.action);
    expect(after).toEqual(expect.arrayContaining(['conversation.bot-released', 'conversation.routed']));
    await waitFor(() => anaFeed.frames.find((f) => f.type === 'event' && f.conversationId === c.id && f.event === 'conversation.assigned'), { what: 'assignment on Ana’s feed' });
    const next = `49${Math.floor(1e9 + Math.random() * 9e9)}`;
    await customerWrites(next, 'Anyone there?', BOT_NUMBER);
    const routed = await waitFor(
      async () => (await http.get('/api/v1/conversations?view=all&limit=200').set(auth.admin)).body.items?.find((x: any) => x.contact.waId === next && x.owner) ?? null,
      { what: 'the next conversation routed as usual', timeoutMs: 20_000 },
    );
    expect(routed).toMatchObject({ bot: null, owner: { id: ids.ana } });
  }, 240_000);

  it('a hold in flight when the bot’s key is revoked does not leave the conversation with the revoked bot; a revoked bot cannot become a number’s bot', async () => {
    const racing = (await http.post('/api/v1/api-keys').set(auth.admin).send({ name: 'Racing bot', scopes: ['bot', 'conversations:read', 'messages:send'] }).expect(201)).body;
    const c = await newConversation();
    const ds = apps[1].get(DataSource); // routing's
    const revokesSeen = async () => (await ds.query(`SELECT count(*)::int AS n FROM routing.processed_event WHERE consumer = 'routing-bots-on-revoked'`))[0].n as number;
    const revokesBefore = await revokesSeen();
    // the bot's POST …/bot reaches routing and waits for the conversation's row (held here) …
    const blocker = ds.createQueryRunner();
    await blocker.connect();
    let hold: Promise<request.Response>;
    try {
      await blocker.startTransaction();
      const [{ pid }] = await blocker.query(`SELECT pg_backend_pid() AS pid`);
      await blocker.query(`SELECT 1 FROM routing.conversation_work WHERE conversation_id = $1 FOR UPDATE`, [c.id]);
      hold = http.post(`/api/v1/conversations/${c.id}/bot`).set('X-Api-Key', racing.key).send({}).then((r) => r);
      await waitFor(async () => (await ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]))[0].n > 0, {
        what: 'the hold waiting for the conversation',
      });
      // … while its key is revoked and routing has handled the revoke
      await http.delete(`/api/v1/api-keys/${racing.id}`).set(auth.admin).expect(200);
      await waitFor(async () => (await revokesSeen()) > revokesBefore, { what: 'routing handled the revoke' });
      await blocker.commitTransaction();
    } finally {
      if (blocker.isTransactionActive) await blocker.rollbackTransaction();
      await blocker.release();
    }
    const r = await hold;
    expect(r.status).not.toBe(200);
    if (r.status === 403) expect(r.body.message).toMatch(/Racing bot: its API key was revoked/);
    await ds.transaction((em) => em.query(`SELECT 1 FROM routing.conversation_work WHERE conversation_id = $1 FOR UPDATE`, [c.id])); // the hold's transaction is over
    expect(await get(c.id)).toMatchObject({ bot: null, owner: null });
    expect((await http.get('/api/v1/conversations?view=unassigned&limit=200').set(auth.frank).expect(200)).body.items.map((i: any) => i.id)).toContain(c.id);

    // the gateway found the key live, then it was revoked: routing does not store the number's bot
    const admin = { type: 'user' as const, id: randomUUID(), name: 'Admin', role: 'admin' as const, teamIds: [] };
    const refused = await peer.request(SetNumberBotV1, { actor: admin, phoneNumberId: '106540352277044', bot: { id: racing.id, name: 'Racing bot' } }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'VALIDATION' });
    expect(refused.message).toMatch(/Racing bot: its API key was revoked/);
    expect(await ds.query(`SELECT 1 FROM routing.number_bot WHERE bot_id = $1`, [racing.id])).toEqual([]);
  }, 240_000);

  it('an agent takes a conversation back from the bot; a bot cannot take back, nor act on what it does not hold', async () => {
    const c = await newConversation();
    const held = (await http.post(`/api/v1/conversations/${c.id}/bot`).set(auth.bot).send({}).expect(200)).body;
    expect((await http.get('/api/v1/conversations?view=mine').set(auth.bot).expect(200)).body.items.map((i: any) => i.id)).toContain(c.id);

    expect((await http.post(`/api/v1/conversations/${c.id}/take-back`).set(auth.bot).send({ version: held.version }).expect(403)).body.message).toMatch(/needs conversations:write/);
    expect((await http.post(`/api/v1/conversations/${c.id}/take-back`).set(auth.frank).send({ version: held.version - 1 }).expect(409)).body.message).toMatch(/version/);
    const back = (await http.post(`/api/v1/conversations/${c.id}/take-back`).set(auth.frank).send({ version: held.version }).expect(200)).body;
    expect(back).toMatchObject({ ownerId: ids.frank, bot: null, version: held.version + 1 });
    const entry = (await http.get(`/api/v1/conversations/${c.id}/timeline`).set(auth.frank).expect(200)).body.items.find(
      (i: any) => i.kind === 'event' && i.event.action === 'conversation.bot-taken-back',
    );
    expect(entry.event).toMatchObject({ actor: { type: 'user', id: ids.frank }, before: { ownerId: null, bot: { id: ids.bot } }, after: { ownerId: ids.frank, bot: null } });
    await waitFor(async () => (await get(c.id)).sla.firstResponse?.dueAt ?? null, { what: 'clock running after the take-back' });

    // the bot lost it: no reply, no hold over a person, no handover
    expect((await http.post(`/api/v1/conversations/${c.id}/messages`).set(auth.bot).set('Idempotency-Key', 'bot-3').send({ text: 'hi' }).expect(409)).body.message).toMatch(/owned by frank/);
    expect((await http.post(`/api/v1/conversations/${c.id}/bot`).set(auth.bot).send({}).expect(409)).body.message).toMatch(/owned by frank/);
    // a bot replying in a conversation it never held is refused before anything is sent
    const other = await newConversation();
    expect((await http.post(`/api/v1/conversations/${other.id}/messages`).set(auth.bot).set('Idempotency-Key', 'bot-4').send({ text: 'hi' }).expect(409)).body.message).toMatch(
      /not held by a bot: a bot replies only in conversations it holds/,
    );
    expect((await http.post(`/api/v1/messages`).set(auth.bot).set('Idempotency-Key', 'bot-5').send({ phoneNumberId: NUMBER, to: other.waId, conversationId: other.id, type: 'text', text: { body: 'x' } }).expect(403)).body.message).toMatch(
      /a bot replies from the conversation it holds/,
    );
    const atSandbox = (await request(sandbox.getHttpServer()).get(`/sandbox/sent?phoneNumberId=${NUMBER}`)).body.messages.filter((m: any) => m.to === other.waId || m.to === c.waId);
    expect(atSandbox).toEqual([]);
  }, 240_000);
});
