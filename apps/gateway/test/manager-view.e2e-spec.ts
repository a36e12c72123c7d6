import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import WebSocket from 'ws';
import { parseConfig } from '@app/config';
import { ConversationOpenedV1, CreateSlaPolicyV1, GetWorkV1, MessageReceivedV1, type Actor } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { ManualClock } from '../../sla/src/clock/clock';
import { SlaConfigSchema } from '../../sla/src/config';
import { SlaModule } from '../../sla/src/sla.module';
import { TimerWorker } from '../../sla/src/timers/timer.worker';

/**
 * The manager view through the gateway with routing and sla on real PostgreSQL and NATS: the dashboard moves over
 * the WebSocket after assign / breach / resolve, team scoping, bad input, bulk reassignment, CSV exports.
 * sla's time is a ManualClock (the breach fires when the test moves it), never slept through.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const SALES_NUMBER = '1555000201';
const SUPPORT_NUMBER = '1555000202';
const SYSTEM: Actor = { type: 'system', id: 'test', name: null, role: 'admin', teamIds: [] };

interface Frame {
  type: string;
  teamIds?: string[];
  cause?: string;
}

class TestSocket {
  frames: Frame[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.frames.push(JSON.parse(String(d))));
  }
  /** Waits for a dashboard.changed frame after the `mark`-th frame, about `teamId`, with this cause. */
  changed(mark: number, teamId: string, cause?: string) {
    return waitFor(() => this.frames.slice(mark).find((f) => f.type === 'dashboard.changed' && f.teamIds?.includes(teamId) && (!cause || f.cause === cause)), {
      what: `dashboard.changed ${cause ?? ''}`,
    });
  }
}

describe('manager view: dashboard, live updates, reports, CSV, reassign-all (gateway + routing + sla)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let sla: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  let base: string;
  const clock = new ManualClock();
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const teams: Record<string, string> = {};
  const sockets: WebSocket[] = [];
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  async function createUser(key: string, role: string, teamNames: string[]) {
    const res = await http
      .post('/api/v1/users')
      .set(as('admin'))
      .send({ email: `${key}@example.test`, name: `User ${key}`, password: PASSWORD, role, teamIds: teamNames.map((t) => teams[t]) })
      .expect(201);
    ids[key] = res.body.id;
    tokens[key] = (await http.post('/api/v1/auth/login').send({ email: `${key}@example.test`, password: PASSWORD }).expect(200)).body.accessToken;
  }

  async function socket(who: string): Promise<TestSocket> {
    const ws = new WebSocket(`${base}/api/v1/realtime?access_token=${tokens[who]}`);
    sockets.push(ws);
    const s = new TestSocket(ws);
    await new Promise((resolve, reject) => (ws.on('open', resolve), ws.on('error', reject)));
    await waitFor(() => s.frames.find((f) => f.type === 'ready'), { what: 'ready' });
    return s;
  }

  /** A customer writes on a number: the conversation opens (routing queues it in the number's team). */
  async function customerWrites(phoneNumberId: string): Promise<string> {
    const conversationId = randomUUID();
    const contactId = randomUUID();
    const at = clock.now().toISOString();
    await peer.publish(ConversationOpenedV1, { eventId: randomUUID(), occurredAt: at, conversationId, phoneNumberId, contactId, contactName: null, waId: '4915100000000', userId: null, reopened: false });
    await waitFor(() => work(conversationId).catch(() => null), { what: 'work item' });
    await peer.publish(MessageReceivedV1, {
      eventId: randomUUID(), occurredAt: at, conversationId, phoneNumberId, contactId, messageId: randomUUID(), waMessageId: `wamid.${randomUUID()}`,
      direction: 'inbound', origin: 'customer', type: 'text', text: 'hello', sentAt: at,
    });
    return conversationId;
  }
  const work = (id: string) => peer.request(GetWorkV1, { actor: SYSTEM, conversationId: id });
  const version = async (id: string) => (await work(id)).version;
  const dashboard = async (who: string, teamId?: string) => (await http.get('/api/v1/dashboard').query(teamId ? { teamId } : {}).set(as(who)).expect(200)).body;
  const teamOf = (d: any, teamId: string) => d.teams.find((t: any) => t.teamId === teamId);
  const agentOf = (d: any, userId: string) => d.agents.find((a: any) => a.userId === userId);

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, SLA_TIMER_POLL_MS: '0', SLA_EVENT_BACKOFF_MS: '50', SLA_LATE_CLOCK_GRACE_MS: '0' }); // the clock jumps past due times: late clocks are judged at once
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    sla = await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env), { clock }));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)), { listen: true });
    base = `ws://127.0.0.1:${(gateway.getHttpServer().address() as AddressInfo).port}`;
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    tokens.admin = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    for (const name of ['Sales', 'Support']) teams[name] = (await http.post('/api/v1/teams').set(as('admin')).send({ name }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${SALES_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Sales }).expect(200);
    await http.put(`/api/v1/numbers/${SUPPORT_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Support }).expect(200);
    await peer.request(CreateSlaPolicyV1, { actor: SYSTEM, policy: { name: 'Sales', teamId: teams.Sales, firstResponseMinutes: 10 } });
    await createUser('salesManager', 'manager', ['Sales']);
    await createUser('supportManager', 'manager', ['Support']);
    await createUser('ann', 'agent', ['Sales']);
    await createUser('bob', 'agent', ['Sales']);
    await createUser('viewer', 'viewer', ['Sales']);
  }, 60_000);
  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await peer?.close();
    await gateway?.close();
    await sla?.close();
    await routing?.close();
    await env?.cleanup();
  });

  it('agents and viewers get 403; a manager sees only their teams; bad ranges and zones are 400', async () => {
    await http.get('/api/v1/dashboard').set(as('ann')).expect(403);
    await http.get('/api/v1/dashboard').set(as('viewer')).expect(403);
    await http.get('/api/v1/reports/volume').query({ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }).set(as('ann')).expect(403);
    await http.get('/api/v1/dashboard').query({ teamId: teams.Support }).set(as('salesManager')).expect(403);
    await http.get('/api/v1/reports/volume').query({ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z', teamId: teams.Support }).set(as('salesManager')).expect(403);
    const d = await dashboard('salesManager');
    expect(d.teams.map((t: any) => t.teamId)).toEqual([teams.Sales]);
    expect(d.agents.map((a: any) => a.userId).sort()).toEqual([ids.ann, ids.bob, ids.salesManager].sort());
    const bad = (q: object) => http.get('/api/v1/reports/first-response').query(q).set(as('admin')).expect(400);
    expect((await bad({ from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' })).body.message).toMatch(/after from/);
    expect((await bad({ from: '2025-01-01T00:00:00Z', to: '2026-11-01T00:00:00Z' })).body.message).toMatch(/366 days/);
    expect((await bad({ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z', tz: 'Mars/Olympus' })).body.message).toMatch(/unknown time zone/);
    await bad({ from: 'yesterday', to: '2026-11-02T00:00:00Z' });
    await http.get('/api/v1/reports/nonsense').query({ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }).set(as('admin')).expect(400);
    await http.get('/api/v1/dashboard/conversations').query({ metric: 'everything' }).set(as('admin')).expect(400);
  });

  it('live: queue, assign, breach and resolve each move the counters, pushed to the team’s manager over the WebSocket', async () => {
    const ws = await socket('salesManager');
    let mark = ws.frames.length;
    const id = await customerWrites(SALES_NUMBER);
    await ws.changed(mark, teams.Sales);
    await waitFor(async () => teamOf(await dashboard('salesManager'), teams.Sales).queue.length === 1, { what: 'queued' });
    const drill = (await http.get('/api/v1/dashboard/conversations').query({ metric: 'queue', teamId: teams.Sales }).set(as('salesManager')).expect(200)).body;
    expect(drill).toMatchObject({ metric: 'queue', total: 1, items: [{ conversationId: id, teamId: teams.Sales, ownerId: null, status: 'open' }] });

    mark = ws.frames.length;
    await http.post(`/api/v1/conversations/${id}/assign`).set(as('salesManager')).send({ assigneeId: ids.ann, version: await version(id) }).expect(200);
    await ws.changed(mark, teams.Sales, 'work');
    let d = await dashboard('salesManager');
    expect(teamOf(d, teams.Sales)).toMatchObject({ queue: { length: 0 }, byStatus: { open: 1, pending: 0, snoozed: 0 }, age: { open: { lt1h: 1 } } });
    expect(agentOf(d, ids.ann)).toMatchObject({ owned: { open: 1 }, capacity: { used: 1 }, sla: { atRisk: 0, breached: 0 } });

    // 11 minutes later the 10-minute first-response target breaches
    mark = ws.frames.length;
    clock.advance(11 * 60_000);
    await sla.get(TimerWorker).drain();
    await ws.changed(mark, teams.Sales, 'escalated');
    d = await dashboard('salesManager');
    expect(teamOf(d, teams.Sales).sla).toEqual({ atRisk: 0, breached: 1 });
    expect(agentOf(d, ids.ann).sla).toEqual({ atRisk: 0, breached: 1 });
    const breached = (await http.get('/api/v1/dashboard/conversations').query({ metric: 'sla-breached', agentId: ids.ann }).set(as('salesManager')).expect(200)).body;
    expect(breached.items).toEqual([expect.objectContaining({ conversationId: id, slaState: 'breached' })]);

    mark = ws.frames.length;
    await http.post(`/api/v1/conversations/${id}/status`).set(as('ann')).send({ status: 'resolved', version: await version(id) }).expect(200);
    await ws.changed(mark, teams.Sales, 'work');
    d = await dashboard('salesManager');
    expect(teamOf(d, teams.Sales)).toMatchObject({ byStatus: { open: 0 }, sla: { breached: 0 } });
    expect(agentOf(d, ids.ann).owned).toEqual({ open: 0, pending: 0, snoozed: 0 });

    // the Support manager was told nothing about Sales: a Support change reaches them after all the Sales ones
    const support = await socket('supportManager');
    const before = ws.frames.length;
    await customerWrites(SUPPORT_NUMBER);
    await support.changed(0, teams.Support);
    expect(support.frames.filter((f) => f.type === 'dashboard.changed' && !f.teamIds?.includes(teams.Support))).toEqual([]);
    expect(ws.frames.slice(before).filter((f) => f.type === 'dashboard.changed' && f.teamIds?.includes(teams.Support))).toEqual([]);
  });

  it('reassign-all moves every open conversation of an absent agent, each an audited change, with per-item results', async () => {
    const mine = [await customerWrites(SALES_NUMBER), await customerWrites(SALES_NUMBER)];
    for (const id of mine) await http.post(`/api/v1/conversations/${id}/assign`).set(as('admin')).send({ assigneeId: ids.bob, version: await version(id) }).expect(200);
    await http.post(`/api/v1/agents/${ids.bob}/reassign-all`).set(as('salesManager')).send({}).expect(400);
    await http.post(`/api/v1/agents/${ids.bob}/reassign-all`).set(as('supportManager')).send({ toUserId: ids.ann }).expect(403);
    await http.post(`/api/v1/agents/${ids.bob}/reassign-all`).set(as('ann')).send({ toUserId: ids.ann }).expect(403);
    const r = (await http.post(`/api/v1/agents/${ids.bob}/reassign-all`).set(as('salesManager')).send({ toUserId: ids.ann }).expect(200)).body;
    expect(r).toMatchObject({ moved: 2, failed: 0 });
    expect(r.items.map((i: any) => i.conversationId).sort()).toEqual([...mine].sort());
    for (const id of mine) {
      expect((await work(id)).ownerId).toBe(ids.ann);
      const audit = (await http.get(`/api/v1/audit?conversationId=${id}`).set(as('admin')).expect(200)).body.items;
      expect(audit.some((e: any) => e.actor.id === ids.salesManager && e.before?.ownerId === ids.bob && e.after?.ownerId === ids.ann)).toBe(true);
    }
    // back to the queue
    const q = (await http.post(`/api/v1/agents/${ids.ann}/reassign-all`).set(as('admin')).send({ toTeamQueue: true }).expect(200)).body;
    expect(q).toMatchObject({ moved: 2, failed: 0 });
  });

  it('CSV: the report and its raw rows, RFC 4180 with a header, streamed', async () => {
    const from = new Date(clock.now().getTime() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const json = (await http.get('/api/v1/reports/volume').query({ from, to }).set(as('admin')).expect(200)).body;
    expect(json.messagesIn).toBeGreaterThan(0);
    const raw = await http.get('/api/v1/reports/volume/raw').query({ from, to, format: 'csv' }).set(as('admin')).expect(200);
    expect(raw.headers['content-type']).toMatch(/^text\/csv/);
    const lines = raw.text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('event_id,conversation_id,team_id,phone_number_id,direction,sender_id,at');
    expect(lines).toHaveLength(1 + json.messagesIn + json.messagesOut);
    const summary = await http.get('/api/v1/reports/volume').query({ from, to, format: 'csv' }).set(as('admin')).expect(200);
    const rows = summary.text.split('\r\n').filter(Boolean);
    expect(rows[0]).toBe('bucket,key,messages_in,messages_out,conversations_opened,conversations_resolved');
    expect(rows[1]).toBe(`total,,${json.messagesIn},${json.messagesOut},${json.conversationsOpened},${json.conversationsResolved}`);
    expect(rows).toHaveLength(2 + 24 + 7);
    // a Sales manager's export holds Sales rows only
    const scoped = await http.get('/api/v1/reports/volume/raw').query({ from, to, format: 'csv' }).set(as('salesManager')).expect(200);
    const teamCol = scoped.text.split('\r\n').filter(Boolean).slice(1).map((l) => l.split(',')[2]);
    expect(teamCol.length).toBeGreaterThan(0);
    expect(new Set(teamCol)).toEqual(new Set([teams.Sales]));
  });
});
