import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { parseConfig } from '@app/config';
import { BusinessHoursStateV1, ConversationOpenedV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';

/**
 * The assignment API through the gateway (rules, team strategies, status, capacity, agents, queue, dry run, the
 * audit's "why"), with routing on real PostgreSQL and NATS. Conversations arrive as ConversationOpenedV1 on the
 * bus, as ingest publishes them.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const SALES_NUMBER = '1555000101';

describe('assignment API (gateway + routing, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const teams: Record<string, string> = {};
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

  async function conversation(text: string, phoneNumberId = SALES_NUMBER): Promise<string> {
    const conversationId = randomUUID();
    await peer.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      conversationId,
      phoneNumberId,
      contactId: randomUUID(),
      contactName: null,
      waId: '4915100000000',
      userId: null,
      reopened: false,
      contact: { returning: true, labels: ['vip'], attributes: { language: 'de' } },
      message: { type: 'text', text },
    });
    await waitFor(async () => (await http.get(`/api/v1/audit?conversationId=${conversationId}`).set(as('admin'))).body.items?.length > 0, {
      what: 'conversation in routing',
    });
    return conversationId;
  }

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ROUTING_SWEEP_INTERVAL_MS: '100' });
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)), { listen: true });
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    tokens.admin = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    for (const name of ['Sales', 'Support', 'After-sales'])
      teams[name] = (await http.post('/api/v1/teams').set(as('admin')).send({ name }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${SALES_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Sales }).expect(200);
    await createUser('salesManager', 'manager', ['Sales']);
    await createUser('supportManager', 'manager', ['Support']);
    await createUser('ann', 'agent', ['Sales']);
    await createUser('bob', 'agent', ['Sales', 'Support']);
    await createUser('viewer', 'viewer', ['Sales']);
  }, 60_000);
  afterAll(async () => {
    await peer?.close();
    await gateway?.close();
    await routing?.close();
    await env?.cleanup();
  });

  it('refuses rules naming a missing team or person, or with invalid conditions, with a message', async () => {
    const post = (body: object, who = 'admin') => http.post('/api/v1/routing/rules').set(as(who)).send(body);
    const missing = randomUUID();
    expect((await post({ name: 'x', conditions: {}, actions: { teamId: missing } }).expect(400)).body.message).toContain(`team ${missing} does not exist`);
    expect((await post({ name: 'x', conditions: {}, actions: { assigneeId: missing } }).expect(400)).body.message).toContain(`user ${missing} does not exist`);
    expect((await post({ name: 'x', conditions: {}, actions: { teamId: teams.Support, assigneeId: ids.ann } }).expect(400)).body.message).toContain(
      'is not a member of team',
    );
    expect((await post({ name: 'x', conditions: {}, actions: { assigneeId: ids.viewer } }).expect(400)).body.message).toContain('viewer');
    expect(JSON.stringify((await post({ name: 'x', conditions: { timeOfDay: { from: '25:00', to: '08:00', timeZone: 'UTC' } }, actions: { priority: 'high' } }).expect(400)).body.message)).toContain(
      'HH:MM',
    );
    expect((await post({ name: 'x', conditions: { timeOfDay: { from: '18:00', to: '08:00', timeZone: 'Mars/Olympus' } }, actions: { priority: 'high' } }).expect(400)).body.message).toContain(
      'unknown time zone',
    );
    expect(JSON.stringify((await post({ name: 'x', conditions: { keywords: [] }, actions: { priority: 'high' } }).expect(400)).body.message)).toContain('keywords');
    expect(JSON.stringify((await post({ name: 'x', conditions: { colour: 'red' }, actions: { priority: 'high' } }).expect(400)).body.message)).toContain('colour');
    expect((await post({ name: 'x', conditions: {}, actions: {} }).expect(400)).body.message).toContain('at least one action');
    // sla (stood in for here) answers businessHoursId null for a calendar it does not know: such a rule would treat it as always open
    await peer.respond(BusinessHoursStateV1, async () => ({ open: true, nextOpenAt: null, businessHoursId: null, timeZone: null }));
    expect(
      (await post({ name: 'x', conditions: { businessHours: { state: 'closed', businessHoursId: missing } }, actions: { priority: 'high' } }).expect(400)).body.message,
    ).toContain(`business hours ${missing} do not exist`);
    // managers write rules for their own teams only; agents none
    await post({ name: 'x', conditions: {}, actions: { teamId: teams.Support } }, 'salesManager').expect(403);
    await post({ name: 'x', conditions: {}, actions: { teamId: teams.Sales } }, 'ann').expect(403);
    expect((await http.get('/api/v1/routing/rules').set(as('admin')).expect(200)).body.items).toEqual([]);
  });

  it('rules CRUD, reorder and dry run; a manager sees why each conversation went where it went', async () => {
    const created = (
      await http
        .post('/api/v1/routing/rules')
        .set(as('salesManager'))
        .send({ name: 'German VIPs', conditions: { contactLabels: ['VIP'], languages: ['de'], keywords: ['angebot'] }, actions: { teamId: teams.Sales, priority: 'urgent' } })
        .expect(201)
    ).body;
    expect(created).toMatchObject({ name: 'German VIPs', position: 1, enabled: true, version: 1, errorCount: 0 });
    const support = (
      await http
        .post('/api/v1/routing/rules')
        .set(as('supportManager'))
        .send({ name: 'Support words', conditions: { keywords: ['kaputt', 'help'] }, actions: { teamId: teams.Support, labels: ['support'] } })
        .expect(201)
    ).body;
    const global = (
      await http.post('/api/v1/routing/rules').set(as('admin')).send({ name: 'Ads first', position: 1, conditions: { referral: true }, actions: { priority: 'high' } }).expect(201)
    ).body;
    let list = (await http.get('/api/v1/routing/rules').set(as('salesManager')).expect(200)).body.items;
    expect(list.map((r: { name: string }) => r.name)).toEqual(['Ads first', 'German VIPs', 'Support words']);
    // a manager may not touch another team's rule or the global one
    await http.patch(`/api/v1/routing/rules/${support.id}`).set(as('salesManager')).send({ enabled: false }).expect(403);
    await http.post('/api/v1/routing/rules/reorder').set(as('salesManager')).send({ ids: [support.id, created.id] }).expect(403);
    // the admin puts Support first among those two slots
    list = (await http.post('/api/v1/routing/rules/reorder').set(as('admin')).send({ ids: [support.id, created.id] }).expect(200)).body.items;
    expect(list.map((r: { name: string; position: number }) => [r.name, r.position])).toEqual([
      ['Ads first', 1],
      ['Support words', 2],
      ['German VIPs', 3],
    ]);
    await http.delete(`/api/v1/routing/rules/${global.id}`).set(as('admin')).expect(200);
    const patched = (await http.patch(`/api/v1/routing/rules/${created.id}`).set(as('salesManager')).send({ position: 1 }).expect(200)).body;
    expect(patched).toMatchObject({ position: 1, version: 2 });

    // team strategy: the Sales manager sets it; the Support manager may not
    await http.put(`/api/v1/teams/${teams.Sales}/routing`).set(as('supportManager')).send({ strategy: 'round_robin' }).expect(403);
    await http.put(`/api/v1/teams/${randomUUID()}/routing`).set(as('admin')).send({ strategy: 'round_robin' }).expect(404);
    await http.put(`/api/v1/teams/${teams.Sales}/routing`).set(as('salesManager')).send({ strategy: 'wild' }).expect(400);
    const settings = (
      await http.put(`/api/v1/teams/${teams.Sales}/routing`).set(as('salesManager')).send({ strategy: 'least_loaded', maxOpenPerAgent: 5, onOwnerOffline: 'queue' }).expect(200)
    ).body;
    expect(settings).toMatchObject({ teamId: teams.Sales, strategy: 'least_loaded', maxOpenPerAgent: 5, onOwnerOffline: 'queue', stickyDays: 30 });
    expect((await http.get(`/api/v1/teams/${teams.Sales}/routing`).set(as('ann')).expect(200)).body).toMatchObject({ strategy: 'least_loaded' });

    // nobody online: the VIP conversation waits in the Sales queue, urgent first
    const normal = await conversation('just looking');
    const vip = await conversation('Ich hätte gern ein Angebot');
    const queue = (await http.get(`/api/v1/teams/${teams.Sales}/queue`).set(as('ann')).expect(200)).body;
    expect(queue.items.map((i: { conversationId: string }) => i.conversationId)).toEqual([vip, normal]);
    expect(queue.items[0]).toMatchObject({ priority: 'urgent' });

    // the dry run says which rule matches and whom the strategy would pick
    await http.put('/api/v1/me/status').set(as('viewer')).send({ status: 'online' }).expect(403); // viewers receive no work
    await http.put('/api/v1/me/status').set(as('bob')).send({ status: 'busy' }).expect(400);
    await http.put(`/api/v1/users/${ids.ann}/capacity`).set(as('supportManager')).send({ maxOpen: 3 }).expect(403);
    expect((await http.put(`/api/v1/users/${ids.ann}/capacity`).set(as('salesManager')).send({ maxOpen: 3, skills: ['de'] }).expect(200)).body).toMatchObject({
      userId: ids.ann,
      maxOpen: 3,
      skills: ['de'],
      status: 'offline',
    });
    const dry = (await http.post('/api/v1/routing/rules/dry-run').set(as('salesManager')).send({ conversationId: vip }).expect(200)).body;
    expect(dry).toMatchObject({ rule: { id: created.id, name: 'German VIPs' }, teamId: teams.Sales, strategy: 'least_loaded', agentId: null, priority: 'urgent' });
    expect(dry.reason).toContain('nobody online');

    // Ann comes online: both are assigned to her at once, the urgent one first
    expect((await http.get('/api/v1/me/status').set(as('bob')).expect(200)).body).toMatchObject({ userId: ids.bob, status: 'offline', openCount: 0 });
    const me = (await http.put('/api/v1/me/status').set(as('ann')).send({ status: 'online' }).expect(200)).body;
    expect(me).toMatchObject({ userId: ids.ann, status: 'online', statusSetBy: 'agent', teamIds: [teams.Sales] });
    await waitFor(async () => (await http.get(`/api/v1/teams/${teams.Sales}/queue`).set(as('ann'))).body.total === 0, { what: 'queue drained' });
    const agents = (await http.get('/api/v1/agents').set(as('salesManager')).expect(200)).body.items;
    expect(agents.find((a: { userId: string }) => a.userId === ids.ann)).toMatchObject({ status: 'online', openCount: 2, maxOpen: 3 });
    await http.get('/api/v1/agents').set(as('ann')).expect(403);
    expect((await http.get('/api/v1/me/status').set(as('ann')).expect(200)).body).toMatchObject({ status: 'online', openCount: 2 });
    await http.get(`/api/v1/agents?teamId=${teams.Support}`).set(as('salesManager')).expect(403);
    expect((await http.post('/api/v1/routing/rules/dry-run').set(as('salesManager')).send({ conversationId: vip }).expect(200)).body).toMatchObject({ agentId: ids.ann });

    // why it went where it went: the audit names the rule and the strategy
    const why = (await http.get(`/api/v1/audit?conversationId=${vip}`).set(as('salesManager')).expect(200)).body.items.reverse();
    expect(why.map((e: { action: string }) => e.action)).toEqual(['conversation.opened', 'conversation.queued', 'conversation.routed']);
    expect(why[0].after.routing.rule).toEqual({ id: created.id, name: 'German VIPs' });
    expect(why[2]).toMatchObject({ actor: { type: 'system' }, after: { ownerId: ids.ann, routing: { strategy: 'least_loaded', agentId: ids.ann } } });
    expect(why[2].note).toContain('least loaded');

    // Ann goes offline: per the team (queue), her open conversations go back to the queue
    await http.put('/api/v1/me/status').set(as('ann')).send({ status: 'offline' }).expect(200);
    await waitFor(async () => (await http.get(`/api/v1/teams/${teams.Sales}/queue`).set(as('ann'))).body.total === 2, { what: 'back in the queue' });
  });

  it('the WebSocket tells routing who is connected; closing it is reported at once', async () => {
    const ds = routing.get(DataSource);
    const base = `ws://127.0.0.1:${(gateway.getHttpServer().address() as AddressInfo).port}`;
    const ws = new WebSocket(`${base}/api/v1/realtime?access_token=${tokens.bob}`);
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const clients = () => ds.query(`SELECT connected FROM routing.agent_client WHERE user_id = $1`, [ids.bob]);
    await waitFor(async () => (await clients()).length === 1 && (await clients())[0].connected, { what: 'client reported' });
    ws.send(JSON.stringify({ type: 'activity' }));
    ws.close();
    await waitFor(async () => (await clients())[0]?.connected === false, { what: 'disconnect reported' });
  });
});
