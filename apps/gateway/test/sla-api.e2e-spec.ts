import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { WebSocket } from 'ws';
import { parseConfig } from '@app/config';
import { NoticeRequestedV1, WebhookReceivedV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { ManualClock } from '../../sla/src/clock/clock';
import { SlaConfigSchema } from '../../sla/src/config';
import { SlaModule } from '../../sla/src/sla.module';
import { textWebhook } from '../../../test/support/webhooks';

/**
 * The SLA API and the notification centre through the gateway, with ingest, routing and sla on real PostgreSQL
 * and NATS: policies and business hours (400s for bad input), SLA clocks on conversations and lists, reminders,
 * notices stored per recipient, listed, marked read and pushed over the WebSocket to that user only.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const NUMBER = '1555000777';
const MIN = 60_000;

describe('SLA API and notifications (gateway + ingest + routing + sla)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let ingest: INestApplication;
  let sla: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  let wsBase: string;
  const clock = new ManualClock();
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let teamId: string;
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });
  const sockets: WebSocket[] = [];

  async function createUser(key: string, role: string) {
    const res = await http
      .post('/api/v1/users')
      .set(as('admin'))
      .send({ email: `${key}@example.test`, name: `User ${key}`, password: PASSWORD, role, teamIds: [teamId] })
      .expect(201);
    ids[key] = res.body.id;
    tokens[key] = (await http.post('/api/v1/auth/login').send({ email: `${key}@example.test`, password: PASSWORD }).expect(200)).body.accessToken;
  }

  async function customerWrites(): Promise<string> {
    const waId = `49${Math.floor(1e9 + Math.random() * 9e9)}`;
    const body = textWebhook({ phoneNumberId: NUMBER, from: waId, text: 'Hello?', ts: Math.floor(clock.now().getTime() / 1000) });
    await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body });
    const c = await waitFor(
      async () => {
        const res = await http.get('/api/v1/conversations?view=all&limit=200').set(as('admin'));
        return res.body.items?.find((x: { contact: { waId: string } }) => x.contact.waId === waId) ?? null;
      },
      { what: 'conversation' },
    );
    await waitFor(async () => (await http.get(`/api/v1/conversations/${c.id}`).set(as('admin'))).body.sla?.firstResponse, { what: 'sla clock' });
    return c.id;
  }

  function socket(who: string): Promise<{ frames: any[] }> {
    const ws = new WebSocket(`${wsBase}/api/v1/realtime?access_token=${tokens[who]}`);
    sockets.push(ws);
    const s = { frames: [] as any[] };
    ws.on('message', (d) => s.frames.push(JSON.parse(String(d))));
    return new Promise((resolve, reject) => {
      ws.on('open', () => resolve(s));
      ws.on('error', reject);
    });
  }

  const noticesOf = async (who: string, query = '') => (await http.get(`/api/v1/notifications${query}`).set(as(who)).expect(200)).body;

  beforeAll(async () => {
    clock.set(Date.now());
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/sla-api-${randomUUID()}`, SLA_TIMER_POLL_MS: '30', SLA_LATE_CLOCK_GRACE_MS: '0' }); // the clock jumps past due times: late clocks are judged at once
    ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, env.env)));
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    sla = await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env), { clock }));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)), { listen: true });
    wsBase = `ws://127.0.0.1:${(gateway.getHttpServer().address() as AddressInfo).port}`;
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    tokens.admin = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    teamId = (await http.post('/api/v1/teams').set(as('admin')).send({ name: 'Support' }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${NUMBER}/team`).set(as('admin')).send({ teamId }).expect(200);
    await createUser('manager', 'manager');
    await createUser('agent', 'agent');
    await createUser('agent2', 'agent');
  }, 120_000);
  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await peer?.close();
    await gateway?.close();
    await sla?.close();
    await routing?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  it('policies and business hours: created by managers, refused with 400 when wrong, 403 for agents', async () => {
    const bad = async (path: string, body: unknown, pattern: RegExp, who = 'manager', status = 400) => {
      const res = await http.post(path).set(as(who)).send(body as object).expect(status);
      expect(res.body.message).toMatch(pattern);
    };
    const hours = { name: 'Office', timeZone: 'Europe/Berlin', weekly: [{ day: 'mon', open: '09:00', close: '18:00' }] };
    await bad('/api/v1/sla/business-hours', { ...hours, timeZone: 'Nowhere/Special' }, /unknown time zone/);
    await bad('/api/v1/sla/business-hours', { ...hours, weekly: [...hours.weekly, { day: 'mon', open: '17:00', close: '19:00' }] }, /overlap/);
    await bad('/api/v1/sla/business-hours', { ...hours, weekly: [{ day: 'mon', open: '09:00', close: '25:00' }] }, /HH:MM/);
    await bad('/api/v1/sla/business-hours', { ...hours, weekly: [{ day: 'mon', open: '18:00', close: '09:00' }] }, /closes before it opens/);
    const created = (await http.post('/api/v1/sla/business-hours').set(as('manager')).send(hours).expect(201)).body;
    const patched = await http
      .patch(`/api/v1/sla/business-hours/${created.id}`)
      .set(as('manager'))
      .send({ holidays: [{ date: '2026-12-25' }] })
      .expect(200);
    expect(patched.body).toMatchObject({ id: created.id, timeZone: 'Europe/Berlin', holidays: [{ date: '2026-12-25' }] });

    await bad('/api/v1/sla/policies', { name: 'x', teamId, firstResponseMinutes: 0 }, /firstResponseMinutes: must be a positive/);
    await bad('/api/v1/sla/policies', { name: 'x', teamId, firstResponseMinutes: 10, nextResponseMinutes: -5 }, /nextResponseMinutes/);
    await bad('/api/v1/sla/policies', { name: 'x', teamId: randomUUID(), firstResponseMinutes: 10 }, /team .* does not exist/);
    await bad('/api/v1/sla/policies', { name: 'x', teamId, firstResponseMinutes: 10 }, /team/, 'agent', 403);
    const policy = (
      await http
        .post('/api/v1/sla/policies')
        .set(as('manager'))
        .send({ name: 'Support standard', teamId, firstResponseMinutes: 15, nextResponseMinutes: 30, resolutionMinutes: 600, onBreach: 'raise-priority' })
        .expect(201)
    ).body;
    expect(policy).toMatchObject({ teamId, priority: null, firstResponseMinutes: 15, warnAtPercent: 80, businessHoursId: null });
    const list = (await http.get(`/api/v1/sla/policies?teamId=${teamId}`).set(as('agent')).expect(200)).body.items;
    expect(list.map((p: { id: string }) => p.id)).toEqual([policy.id]);
    const urgent = (await http.post('/api/v1/sla/policies').set(as('admin')).send({ name: 'Urgent', teamId, priority: 'urgent', firstResponseMinutes: 5 }).expect(201)).body;
    await http.patch(`/api/v1/sla/policies/${urgent.id}`).set(as('manager')).send({ firstResponseMinutes: 3 }).expect(200);
    await http.delete(`/api/v1/sla/policies/${urgent.id}`).set(as('manager')).expect(200);
    await http.delete(`/api/v1/sla/business-hours/${created.id}`).set(as('manager')).expect(200);
  });

  it('a conversation carries its SLA clocks and window; lists filter and sort by SLA; a breach reaches the manager (list + WebSocket) only', async () => {
    const managerWs = await socket('manager');
    const agentWs = await socket('agent');
    const id = await customerWrites();
    const got = (await http.get(`/api/v1/conversations/${id}`).set(as('agent')).expect(200)).body;
    expect(got.sla.firstResponse).toMatchObject({ state: 'ok', dueAt: expect.any(String) });
    expect(got.sla.nextResponse).toBeNull();
    expect(got.window).toMatchObject({ open: true, closesAt: expect.any(String) });

    const listed = async (sort: string) =>
      (await http.get(`/api/v1/conversations?sla=${sort}`).set(as('agent')).expect(200)).body.items.map((c: { id: string }) => c.id);
    expect(await listed('due-soonest')).toContain(id);
    expect(await listed('breached')).not.toContain(id);
    await http.get('/api/v1/conversations?sla=later').set(as('agent')).expect(400);

    clock.advance(16 * MIN);
    await waitFor(async () => (await listed('breached')).includes(id), { what: 'breached in the list' });
    const detail = (await http.get(`/api/v1/conversations/${id}/sla`).set(as('manager')).expect(200)).body;
    expect(detail.sla.firstResponse).toMatchObject({ state: 'breached', breachedAt: expect.any(String) });
    expect(detail.escalations.map((e: { level: string }) => e.level)).toEqual(['warning', 'breach']);

    // the breach goes to the team's manager: in the list and live on the socket; not to agents
    const breach = await waitFor(async () => (await noticesOf('manager')).items.find((n: { kind: string; conversationId: string }) => n.kind === 'sla.breach' && n.conversationId === id));
    expect(breach).toMatchObject({ title: 'First response breached', readAt: null, source: 'sla' });
    await waitFor(() => managerWs.frames.find((f) => f.type === 'notice' && f.notice.id === breach.id), { what: 'notice on the socket' });
    expect((await noticesOf('agent')).items.filter((n: { conversationId: string }) => n.conversationId === id)).toEqual([]);
    expect(agentWs.frames.filter((f) => f.type === 'notice')).toEqual([]);
    await waitFor(async () => (await http.get(`/api/v1/conversations/${id}`).set(as('agent'))).body.priority === 'urgent', { what: 'priority raised' });
  });

  it('notifications: unread first, filter, cursor pages, mark read by ids or all; mentions become notices', async () => {
    const id = await customerWrites();
    const w = (await http.get(`/api/v1/conversations/${id}`).set(as('admin')).expect(200)).body;
    for (let i = 0; i < 3; i++)
      await http.post(`/api/v1/conversations/${id}/notes`).set(as('agent')).send({ body: `look ${i}`, mentions: [ids.agent2], version: w.version }).expect(201);
    const all = await waitFor(async () => ((await noticesOf('agent2')).items.length === 3 ? noticesOf('agent2') : null), { what: 'three mentions' });
    expect(all.unreadCount).toBe(3);
    expect(all.items.every((n: { kind: string; title: string }) => n.kind === 'mention' && n.title === 'User agent mentioned you in a note')).toBe(true);

    await http.post('/api/v1/notifications/read').set(as('agent2')).send({ ids: [all.items[2].id] }).expect(200, { updated: 1 });
    // someone else's notice cannot be marked
    await http.post('/api/v1/notifications/read').set(as('agent')).send({ ids: [all.items[0].id] }).expect(200, { updated: 0 });
    const p1 = await noticesOf('agent2', '?limit=2');
    expect(p1.items.map((n: { readAt: string | null }) => n.readAt === null)).toEqual([true, true]);
    const p2 = await noticesOf('agent2', `?limit=2&cursor=${p1.nextCursor}`);
    expect(p2).toMatchObject({ nextCursor: null, items: [{ id: all.items[2].id, readAt: expect.any(String) }] });
    expect((await noticesOf('agent2', '?unread=true')).items).toHaveLength(2);
    await http.get('/api/v1/notifications?cursor=bm90LWEtY3Vyc29y').set(as('agent2')).expect(400);
    await http.post('/api/v1/notifications/read').set(as('agent2')).send({}).expect(400);
    await http.post('/api/v1/notifications/read').set(as('agent2')).send({ all: true }).expect(200, { updated: 2 });
    expect((await noticesOf('agent2')).unreadCount).toBe(0);
  });

  it('a notice about a conversation never reaches a user who may not see it (e.g. a reminder of someone moved to another team)', async () => {
    const id = await customerWrites();
    const other = (await http.post('/api/v1/teams').set(as('admin')).send({ name: `Other ${randomUUID()}` }).expect(201)).body.id;
    const email = `outsider-${randomUUID()}@example.test`;
    const outsider = (await http.post('/api/v1/users').set(as('admin')).send({ email, name: 'Outsider', password: PASSWORD, role: 'agent', teamIds: [other] }).expect(201)).body.id;
    const token = (await http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200)).body.accessToken;
    await http.get(`/api/v1/conversations/${id}`).set({ Authorization: `Bearer ${token}` }).expect(404);
    await peer.publish(NoticeRequestedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      kind: 'reminder',
      audience: { userIds: [outsider, ids.agent], teamManagersOf: null },
      conversationId: id,
      title: 'Reminder',
      body: 'the customer’s card number is on page 2',
      data: null,
      source: 'sla',
    });
    await waitFor(async () => (await noticesOf('agent')).items.some((x: { conversationId: string; kind: string }) => x.conversationId === id && x.kind === 'reminder'), {
      what: 'the notice stored for the team member',
    });
    const seen = (await http.get('/api/v1/notifications').set({ Authorization: `Bearer ${token}` }).expect(200)).body;
    expect(seen.items).toEqual([]);
  });

  it('reminders: set (at | inMinutes), list, cancel; a due one notifies its owner once', async () => {
    const id = await customerWrites();
    await http.post(`/api/v1/conversations/${id}/reminders`).set(as('agent')).send({ inMinutes: 30, at: new Date().toISOString() }).expect(400);
    await http.post(`/api/v1/conversations/${id}/reminders`).set(as('agent')).send({ note: 'x' }).expect(400);
    const other = await customerWrites();
    // "tomorrow 9:00": a bad time or two ways of saying when are refused with the field named
    const bad = await http.post(`/api/v1/conversations/${other}/reminders`).set(as('agent')).send({ nextDayAt: '24:00' }).expect(400);
    expect(JSON.stringify(bad.body)).toMatch(/nextDayAt/);
    await http.post(`/api/v1/conversations/${other}/reminders`).set(as('agent')).send({ nextDayAt: '9:00' }).expect(400);
    await http.post(`/api/v1/conversations/${other}/reminders`).set(as('agent')).send({ nextDayAt: '09:00', inMinutes: 5 }).expect(400);
    const tomorrow = (await http.post(`/api/v1/conversations/${other}/reminders`).set(as('agent')).send({ nextDayAt: '09:00' }).expect(201)).body;
    // the team's policy has no business hours: UTC, named in the answer
    const today = clock.now();
    expect(tomorrow).toMatchObject({ timeZone: 'UTC', at: new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1, 9)).toISOString() });
    await http.delete(`/api/v1/conversations/${other}/reminders/${tomorrow.id}`).set(as('agent')).expect(200);
    const at = new Date(clock.now().getTime() + 120 * MIN).toISOString();
    const r1 = (await http.post(`/api/v1/conversations/${id}/reminders`).set(as('agent')).send({ at, note: 'call the customer back' }).expect(201)).body;
    const r2 = (await http.post(`/api/v1/conversations/${id}/reminders`).set(as('agent')).send({ at }).expect(201)).body;
    await http.delete(`/api/v1/conversations/${id}/reminders/${r2.id}`).set(as('agent')).expect(200);
    const list = (await http.get(`/api/v1/conversations/${id}/reminders`).set(as('agent')).expect(200)).body.items;
    expect(list.map((r: { id: string; state: string }) => [r.id, r.state])).toEqual([
      [r1.id, 'pending'],
      [r2.id, 'cancelled'],
    ]);
    await http.post(`/api/v1/conversations/${randomUUID()}/reminders`).set(as('agent')).send({ inMinutes: 5 }).expect(404);

    clock.advance(121 * MIN);
    const n = await waitFor(async () => (await noticesOf('agent')).items.filter((x: { kind: string; conversationId: string }) => x.kind === 'reminder' && x.conversationId === id).length === 1 ? noticesOf('agent') : null);
    expect(n.items.find((x: { kind: string }) => x.kind === 'reminder')).toMatchObject({ body: 'call the customer back' });
  });

  it('reminders are personal: another agent cannot read my reminder or its note; the team manager sees its time, not its note', async () => {
    const id = await customerWrites();
    const at = new Date(clock.now().getTime() + 60 * MIN).toISOString();
    const mine = (await http.post(`/api/v1/conversations/${id}/reminders`).set(as('agent')).send({ at, note: 'promised a refund of 40 EUR' }).expect(201)).body;
    const theirs = (await http.post(`/api/v1/conversations/${id}/reminders`).set(as('agent2')).send({ at, note: 'check the invoice' }).expect(201)).body;
    const list = async (who: string) => (await http.get(`/api/v1/conversations/${id}/reminders`).set(as(who)).expect(200)).body.items;

    expect(await list('agent')).toEqual([expect.objectContaining({ id: mine.id, userId: ids.agent, note: 'promised a refund of 40 EUR' })]);
    const agent2Sees = await list('agent2');
    expect(agent2Sees).toEqual([expect.objectContaining({ id: theirs.id, note: 'check the invoice' })]);
    expect(JSON.stringify(agent2Sees)).not.toContain('refund');
    // nor can agent B cancel agent A's reminder
    await http.delete(`/api/v1/conversations/${id}/reminders/${mine.id}`).set(as('agent2')).expect(403);

    // the team's manager (and an admin) plan cover: who has a reminder when, not what it says
    for (const who of ['manager', 'admin']) {
      const seen = await list(who);
      expect(seen.map((r: { id: string }) => r.id).sort()).toEqual([mine.id, theirs.id].sort());
      for (const r of seen) expect(r).toMatchObject({ at, state: 'pending', note: null, noteHidden: true });
    }
  });

  it('with sla down, a conversation still reads (sla: null) and the SLA API answers 503 fast', async () => {
    const id = await customerWrites();
    await sla.close();
    const got = (await http.get(`/api/v1/conversations/${id}`).set(as('agent')).expect(200)).body;
    expect(got).toMatchObject({ id, sla: null, window: { open: true } });
    await http.get('/api/v1/sla/policies').set(as('manager')).expect(503);
  });
});
