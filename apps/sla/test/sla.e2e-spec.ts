import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import {
  AssignV1,
  CancelReminderV1,
  ConversationOpenedV1,
  CreateBusinessHoursV1,
  CreateFollowUpRuleV1,
  CreateReminderV1,
  CreateSlaPolicyV1,
  GetActivityV1,
  GetConversationSlaV1,
  GetConversationV1,
  GetWorkV1,
  ListSlaPoliciesV1,
  MessageReceivedV1,
  NoticeRequestedV1,
  OutboundQueuedV1,
  RankBySlaV1,
  RequeueV1,
  SendMessageV1,
  SetNumberTeamV1,
  SetStatusV1,
  UpdateSlaPolicyV1,
  BusinessHoursStateV1,
  type Actor,
  type PayloadOf,
  type RequestOf,
  type SlaPolicyInput,
} from '@app/contracts';
import { Bus, NatsBus, RemoteError } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { ManualClock } from '../src/clock/clock';
import { SlaConfigSchema } from '../src/config';
import { SlaModule } from '../src/sla.module';
import { ClockEventsHandler } from '../src/events/clock-events.handler';
import { TimerWorker } from '../src/timers/timer.worker';

/**
 * SLA clocks, escalations, the 24-hour window, reminders and follow-ups on real PostgreSQL and NATS, with the
 * real routing (work state, audit trail) and notifications (window enforcement). Inbound events are published
 * as ingest would; time is a ManualClock the test moves (the poller compares due times with it).
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const ADMIN: Actor = { type: 'user', id: randomUUID(), name: 'Admin', role: 'admin', teamIds: [] };

describe('sla service (real PostgreSQL + NATS, routing, notifications)', () => {
  let env: TestEnv;
  let sla: INestApplication;
  let routing: INestApplication;
  let notifications: INestApplication;
  let peer: NatsBus;
  const clock = new ManualClock();
  const notices: PayloadOf<typeof NoticeRequestedV1>[] = [];
  const sends: RequestOf<typeof SendMessageV1>[] = [];
  const requeues: RequestOf<typeof RequeueV1>[] = [];
  let numberSeq = 0;

  beforeAll(async () => {
    env = await createTestEnv({ SLA_TIMER_POLL_MS: '30', SLA_EVENT_MAX_DELIVER: '2', SLA_EVENT_BACKOFF_MS: '50', OUTBOUND_SENDER: 'false', SNOOZE_SWEEP_INTERVAL_MS: '200' });
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    notifications = await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, env.env)));
    sla = await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env), { clock }));
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    await peer.consume(NoticeRequestedV1, { durable: 'test-notices' }, async (n) => void notices.push(n));
    await peer.respond(RequeueV1, async (r) => {
      requeues.push(r);
      return peer.request(GetWorkV1, { actor: ADMIN, conversationId: r.conversationId });
    });
  }, 60_000);
  afterAll(async () => {
    await peer?.close();
    await sla?.close();
    await notifications?.close();
    await routing?.close();
    await env?.cleanup();
  });
  beforeEach(() => clock.set(Date.now()));

  /** A team with its own number (so conversations land in it) and an SLA policy. */
  async function team(policy: Partial<SlaPolicyInput> = {}): Promise<{ teamId: string; number: string }> {
    const teamId = randomUUID();
    const number = `49300${Date.now() % 1e6}${numberSeq++}`;
    await peer.request(SetNumberTeamV1, { actor: ADMIN, phoneNumberId: number, teamId });
    await peer.request(CreateSlaPolicyV1, { actor: ADMIN, policy: { name: `P ${teamId}`, teamId, firstResponseMinutes: 15, ...policy } });
    return { teamId, number };
  }

  async function conversation(number: string, sentAt: Date): Promise<{ id: string; contactId: string; waId: string }> {
    const id = randomUUID();
    const contactId = randomUUID();
    const waId = `4915${Math.floor(1e8 + Math.random() * 9e8)}`;
    await peer.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: sentAt.toISOString(),
      conversationId: id,
      phoneNumberId: number,
      contactId,
      contactName: 'Customer',
      waId,
      userId: null,
      reopened: false,
    });
    await waitFor(() => peer.request(GetWorkV1, { actor: ADMIN, conversationId: id }).catch(() => null), { what: 'work item in routing' });
    await customerWrites({ id, contactId, number }, sentAt);
    await waitFor(async () => (await slaOf(id)).window.closesAt, { what: 'sla saw the message' });
    return { id, contactId, waId };
  }

  /** What ingest publishes for a customer's text message. */
  const customerMessage = (c: { id: string; contactId: string; number: string }, sentAt: Date): PayloadOf<typeof MessageReceivedV1> => ({
    eventId: randomUUID(),
    occurredAt: sentAt.toISOString(),
    conversationId: c.id,
    phoneNumberId: c.number,
    contactId: c.contactId,
    messageId: randomUUID(),
    waMessageId: `wamid.${randomUUID()}`,
    direction: 'inbound',
    origin: 'customer',
    type: 'text',
    text: 'hello',
    sentAt: sentAt.toISOString(),
  });

  /** What routing publishes when it opens a conversation into a team (tests that drive sla's handler directly). */
  const opened = (c: { id: string; contactId: string; number: string }, teamId: string, openedAt: Date, lastMessageAt: Date): Parameters<ClockEventsHandler['work']>[0] => {
    const now = clock.now().toISOString();
    return {
      eventId: randomUUID(),
      occurredAt: now,
      action: 'conversation.opened',
      actor: { type: 'system', id: 'routing', name: null },
      state: {
        conversationId: c.id,
        phoneNumberId: c.number,
        contactId: c.contactId,
        teamId,
        ownerId: null,
        status: 'open',
        snoozeUntil: null,
        priority: 'normal',
        labels: [],
        version: 1,
        openedAt: openedAt.toISOString(),
        lastMessageAt: lastMessageAt.toISOString(),
        resolvedAt: null,
        updatedAt: now,
      },
    };
  };

  async function customerWrites(c: { id: string; contactId: string; number: string }, sentAt: Date): Promise<void> {
    await peer.publish(MessageReceivedV1, customerMessage(c, sentAt));
  }

  async function agentReplies(conversationId: string, number: string, senderId: string = randomUUID(), occurredAt = clock.now()): Promise<void> {
    await peer.publish(OutboundQueuedV1, {
      eventId: randomUUID(),
      occurredAt: occurredAt.toISOString(),
      sendId: randomUUID(),
      phoneNumberId: number,
      conversationId,
      to: '491700000000',
      kind: 'text',
      text: 'on it',
      content: {},
      senderId,
      senderName: 'Agent',
    });
  }

  const slaOf = async (id: string) => (await peer.request(GetConversationSlaV1, { conversationIds: [id] })).items[0];
  const work = (id: string) => peer.request(GetWorkV1, { actor: ADMIN, conversationId: id });
  const setStatus = async (id: string, status: 'open' | 'pending' | 'resolved' | 'snoozed') => {
    const w = await work(id);
    return peer.request(SetStatusV1, { actor: ADMIN, conversationId: id, version: w.version, status });
  };
  const assign = async (id: string, teamId: string, ownerId: string) => {
    const w = await work(id);
    await peer.request(AssignV1, { actor: ADMIN, conversationId: id, version: w.version, assignee: { id: ownerId, role: 'agent', teamIds: [teamId] } });
    await waitFor(async () => (await slaDb(`SELECT owner_id FROM sla.conversation WHERE conversation_id = $1`, [id]))[0]?.owner_id === ownerId, {
      what: 'sla saw the owner',
    });
  };
  const slaDb = (sql: string, params: unknown[] = []) => sla.get(DataSource).query(sql, params);
  const drain = () => sla.get(TimerWorker).drain();
  /** Everything sla wrote to its outbox is on the bus (so counts of what peers received are final). */
  const relayed = () => waitFor(async () => (await slaDb(`SELECT count(*)::int AS n FROM sla.outbox WHERE published_at IS NULL`))[0].n === 0, { what: 'outbox relayed' });
  const noticesOf = (id: string, kind: string) => notices.filter((n) => n.conversationId === id && n.kind === kind);

  it('first response counts business hours: 17:55 + 15 min is due 09:10 the next working day (and the API answers open/closed)', async () => {
    const hours = await peer.request(CreateBusinessHoursV1, {
      actor: ADMIN,
      hours: {
        name: 'Berlin office',
        timeZone: 'Europe/Berlin',
        weekly: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, open: '09:00', close: '18:00' })),
        holidays: [{ date: '2026-12-25', name: 'Christmas' }],
      },
    });
    const t = await team({ businessHoursId: hours.id });
    clock.set('2026-11-24T17:55:00+01:00');
    const c = await conversation(t.number, new Date('2026-11-24T17:55:00+01:00'));
    const s = await waitFor(async () => (await slaOf(c.id)).sla.firstResponse, { what: 'first-response clock' });
    expect(s).toMatchObject({ startedAt: '2026-11-24T16:55:00.000Z', dueAt: '2026-11-25T08:10:00.000Z', state: 'ok', paused: false });
    // 80 % of 15 business minutes = 12: 5 today, 7 tomorrow
    expect(s.warnAt).toBe('2026-11-25T08:07:00.000Z');

    // routing and automation ask whether a moment is inside the team's hours
    await expect(peer.request(BusinessHoursStateV1, { teamId: t.teamId, at: '2026-11-28T12:00:00+01:00' })).resolves.toEqual({
      open: false,
      nextOpenAt: '2026-11-30T08:00:00.000Z',
      businessHoursId: hours.id,
      timeZone: 'Europe/Berlin',
    });
    await expect(peer.request(BusinessHoursStateV1, { teamId: t.teamId, at: '2026-11-30T10:00:00+01:00' })).resolves.toMatchObject({ open: true });
  });

  it('refuses impossible hours, unknown zones and zero targets', async () => {
    const bad = (weekly: { day: 'mon'; open: string; close: string }[], timeZone = 'Europe/Berlin') =>
      peer.request(CreateBusinessHoursV1, { actor: ADMIN, hours: { name: 'x', timeZone, weekly, holidays: [] } });
    await expect(bad([{ day: 'mon', open: '09:00', close: '12:00' }, { day: 'mon', open: '11:30', close: '13:00' }])).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/overlap/),
    });
    await expect(bad([{ day: 'mon', open: '12:00', close: '09:00' }])).rejects.toBeInstanceOf(RemoteError);
    await expect(bad([{ day: 'mon', open: '09:00', close: '17:00' }], 'Europe/Atlantis')).rejects.toMatchObject({ message: expect.stringMatching(/unknown time zone/) });
    // zero targets never leave the caller (the contract refuses them) …
    expect(() => CreateSlaPolicyV1.request.parse({ actor: ADMIN, policy: { name: 'x', teamId: randomUUID(), firstResponseMinutes: 0 } })).toThrow(/positive/);
    // … and an agent may not set policies
    await expect(
      peer.request(CreateSlaPolicyV1, { actor: { ...ADMIN, role: 'agent' }, policy: { name: 'x', teamId: randomUUID(), firstResponseMinutes: 5 } }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('pending pauses the clock; a reply meets first response; the next customer message starts next response', async () => {
    const t = await team({ firstResponseMinutes: 60, nextResponseMinutes: 30 });
    const start = clock.now();
    const c = await conversation(t.number, start);
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse, { what: 'first-response clock' });

    clock.advance(10 * MIN);
    await setStatus(c.id, 'pending');
    const paused = await waitFor(async () => ((await slaOf(c.id)).sla.firstResponse?.paused ? (await slaOf(c.id)).sla.firstResponse : null), { what: 'paused' });
    expect(paused.dueAt).toBeNull();

    clock.advance(2 * HOUR); // the customer took two hours; this time does not count
    await setStatus(c.id, 'open');
    const resumed = await waitFor(async () => {
      const f = (await slaOf(c.id)).sla.firstResponse;
      return f && !f.paused && f.dueAt ? f : null;
    });
    expect(resumed.pausedMs).toBe(2 * HOUR);
    expect(resumed.dueAt).toBe(new Date(start.getTime() + 60 * MIN + 2 * HOUR).toISOString());

    clock.advance(5 * MIN);
    await agentReplies(c.id, t.number);
    const met = await waitFor(async () => ((await slaOf(c.id)).sla.firstResponse?.state === 'met' ? (await slaOf(c.id)).sla.firstResponse : null));
    expect(met.metAt).toBe(clock.now().toISOString());
    expect((await slaOf(c.id)).sla.nextResponse).toBeNull();

    clock.advance(MIN);
    const second = clock.now();
    await customerWrites({ id: c.id, contactId: c.contactId, number: t.number }, second);
    const next = await waitFor(async () => (await slaOf(c.id)).sla.nextResponse);
    expect(next).toMatchObject({ startedAt: second.toISOString(), dueAt: new Date(second.getTime() + 30 * MIN).toISOString(), state: 'ok' });
    expect((await slaOf(c.id)).sla.firstResponse?.state).toBe('met');
  });

  it('changing a policy re-evaluates the running clocks of its team', async () => {
    const t = await team({ firstResponseMinutes: 60 });
    const start = clock.now();
    const c = await conversation(t.number, start);
    const before = await waitFor(async () => (await slaOf(c.id)).sla.firstResponse);
    expect(before.dueAt).toBe(new Date(start.getTime() + 60 * MIN).toISOString());
    const [policy] = (await peer.request(ListSlaPoliciesV1, { actor: ADMIN, teamId: t.teamId })).items;
    await peer.request(UpdateSlaPolicyV1, { actor: ADMIN, id: policy.id, patch: { firstResponseMinutes: 20 } });
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse?.dueAt === new Date(start.getTime() + 20 * MIN).toISOString(), { what: 'clock re-evaluated' });
  });

  it('warning then breach, each exactly once, with notices, priority raised and audit entries', async () => {
    const t = await team({ firstResponseMinutes: 10, onBreach: 'raise-priority', raiseTo: 'urgent' });
    const owner = randomUUID();
    const c = await conversation(t.number, clock.now());
    await assign(c.id, t.teamId, owner);
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse);

    clock.advance(8 * MIN); // 80 %
    await waitFor(() => (noticesOf(c.id, 'sla.warning').length ? true : drain().then(() => false)), { what: 'warning notice' });
    clock.advance(2 * MIN);
    await waitFor(() => noticesOf(c.id, 'sla.breach').length > 0, { what: 'breach notice' });
    await waitFor(async () => (await work(c.id)).priority === 'urgent', { what: 'priority raised' });
    // more passes and more time change nothing
    clock.advance(HOUR);
    await drain();
    await drain();
    await relayed();

    expect(noticesOf(c.id, 'sla.warning')).toHaveLength(1);
    expect(noticesOf(c.id, 'sla.warning')[0].audience).toEqual({ userIds: [owner], teamManagersOf: null });
    expect(noticesOf(c.id, 'sla.breach')).toHaveLength(1);
    expect(noticesOf(c.id, 'sla.breach')[0].audience).toEqual({ userIds: [], teamManagersOf: t.teamId });
    const view = await slaOf(c.id);
    expect(view.sla.firstResponse).toMatchObject({ state: 'breached' });
    expect(view.escalations.map((e) => [e.level, e.actions])).toEqual([
      ['warning', ['notify-owner']],
      ['breach', ['notify-managers', 'raise-priority:urgent']],
    ]);
    const audit = await waitFor(async () => {
      const events = (await peer.request(GetActivityV1, { actor: ADMIN, conversationId: c.id })).events;
      return events.filter((e) => e.actor.id === 'sla').length >= 3 ? events : null;
    });
    const bySla = audit.filter((e) => e.actor.id === 'sla').map((e) => e.action);
    expect(bySla.filter((a) => a === 'sla.warning')).toHaveLength(1);
    expect(bySla.filter((a) => a === 'sla.breach')).toHaveLength(1);
    expect(bySla.filter((a) => a.includes('priority'))).toHaveLength(1);

    // a late reply is recorded, but the verdict stays
    await agentReplies(c.id, t.number);
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse?.metAt);
    expect((await slaOf(c.id)).sla.firstResponse?.state).toBe('breached');
  });

  it('sla down while the customer wrote and was answered in time: restarted after the due time, the target is met, nothing escalated', async () => {
    const t = await team({ firstResponseMinutes: 10, onBreach: 'raise-priority', raiseTo: 'urgent' });
    const start = clock.now();
    // sla stops; routing keeps running (the conversation is opened and routed to the team meanwhile)
    await sla.close();
    const c = { id: randomUUID(), contactId: randomUUID(), number: t.number };
    await peer.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: start.toISOString(),
      conversationId: c.id,
      phoneNumberId: c.number,
      contactId: c.contactId,
      contactName: 'Customer',
      waId: '4915222222222',
      userId: null,
      reopened: false,
    });
    await waitFor(() => work(c.id).catch(() => null), { what: 'work item in routing' });
    await customerWrites(c, start);
    const repliedAt = new Date(start.getTime() + 5 * MIN); // answered 5 minutes in: in time
    await agentReplies(c.id, t.number, randomUUID(), repliedAt);

    // sla comes back 20 minutes later: its timers are due (late) while its consumers replay the backlog. The worst
    // order is made certain: the reply is held back until the breach timer has fired.
    clock.set(start.getTime() + 20 * MIN);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    sla = await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env), { clock }), {
      setup: (app) => {
        const h = app.get(ClockEventsHandler);
        const reply = h.reply.bind(h);
        h.reply = async (e) => {
          if (e.conversationId === c.id) await held;
          return reply(e);
        };
      },
    });
    await waitFor(async () => (await slaDb(`SELECT 1 FROM sla.timer WHERE conversation_id = $1 AND kind = 'clock.breach' AND status = 'fired'`, [c.id])).length > 0, {
      what: 'the late breach timer fired',
    });
    release();
    const met = await waitFor(async () => ((await slaOf(c.id))?.sla.firstResponse?.state === 'met' ? (await slaOf(c.id)).sla.firstResponse : null), {
      what: 'met by the backlog',
    });
    expect(met).toMatchObject({ startedAt: start.toISOString(), dueAt: new Date(start.getTime() + 10 * MIN).toISOString(), metAt: repliedAt.toISOString() });

    // past any grace: nothing left to judge, nothing said
    clock.advance(HOUR);
    await drain();
    await drain();
    await relayed();
    const view = await slaOf(c.id);
    expect(view.sla.firstResponse).toMatchObject({ state: 'met', metAt: repliedAt.toISOString() });
    expect(view.escalations).toEqual([]);
    expect(noticesOf(c.id, 'sla.breach')).toHaveLength(0);
    expect(noticesOf(c.id, 'sla.warning')).toHaveLength(0);
    expect((await work(c.id)).priority).not.toBe('urgent');
    expect(await slaDb(`SELECT kind FROM sla.timer WHERE conversation_id = $1 AND status = 'pending' AND kind LIKE 'clock.%'`, [c.id])).toEqual([]);
  });

  it('a clock timer that fires late is judged after one grace: a reply applied meanwhile (at its time) leaves it met', async () => {
    const t = await team({ firstResponseMinutes: 10, onBreach: 'raise-priority', raiseTo: 'urgent' });
    const start = clock.now();
    const c = await conversation(t.number, start);
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse);
    // sla was behind: both timers are due, late, before the reply is applied
    clock.advance(20 * MIN);
    // (the poller may be the one firing them: wait for its pass to commit)
    const deferredRows = () => slaDb(`SELECT kind, due_at, payload FROM sla.timer WHERE conversation_id = $1 AND kind LIKE 'clock.%' AND status = 'pending' ORDER BY kind`, [c.id]);
    const deferred = await waitFor(async () => ((await deferredRows()).every((r: { payload: unknown }) => r.payload) ? deferredRows() : drain().then(() => null)), {
      what: 'late timers deferred',
    });
    const graceEnds = new Date(clock.now().getTime() + 30_000);
    expect(deferred).toEqual([
      { kind: 'clock.breach', due_at: graceEnds, payload: { deferred: true, late: true } },
      { kind: 'clock.warning', due_at: graceEnds, payload: { deferred: true, late: true } },
    ]);
    expect((await slaOf(c.id)).sla.firstResponse?.state).toBe('ok');
    const repliedAt = new Date(start.getTime() + 5 * MIN);
    await agentReplies(c.id, t.number, randomUUID(), repliedAt);
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse?.state === 'met', { what: 'met by the late reply' });
    clock.advance(HOUR);
    await drain();
    await relayed();
    expect((await slaOf(c.id)).escalations).toEqual([]);

    // with no reply in the backlog, the late verdict comes after the grace, flagged late, exactly once
    const d = await conversation(t.number, clock.now());
    await waitFor(async () => (await slaOf(d.id)).sla.firstResponse);
    clock.advance(20 * MIN);
    await drain();
    expect((await slaOf(d.id)).escalations).toEqual([]); // not yet: within the grace
    clock.advance(30_000);
    await waitFor(() => noticesOf(d.id, 'sla.breach').length > 0 || drain().then(() => false), { what: 'late breach after the grace' });
    await drain();
    await relayed();
    const view = await slaOf(d.id);
    expect(view.sla.firstResponse?.state).toBe('breached');
    expect(view.escalations.map((e) => [e.level, e.late])).toEqual([
      ['warning', true],
      ['breach', true],
    ]);
    expect(noticesOf(d.id, 'sla.breach')).toHaveLength(1);
  });

  it('a reply dated in the future of sla\'s clock counts at sla\'s clock', async () => {
    const t = await team({ firstResponseMinutes: 10 });
    const c = await conversation(t.number, clock.now());
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse);
    clock.advance(MIN);
    await agentReplies(c.id, t.number, randomUUID(), new Date(clock.now().getTime() + HOUR));
    const met = await waitFor(async () => ((await slaOf(c.id)).sla.firstResponse?.state === 'met' ? (await slaOf(c.id)).sla.firstResponse : null));
    expect(met.metAt).toBe(clock.now().toISOString());
  });

  it('a breach can return the conversation to the queue (routing requeue), and lists rank by SLA', async () => {
    const t = await team({ firstResponseMinutes: 5, onBreach: 'requeue' });
    const c = await conversation(t.number, clock.now());
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse);
    const due = await peer.request(RankBySlaV1, { sort: 'due-soonest', limit: 500 });
    expect(due.ids).toContain(c.id);
    clock.advance(4 * MIN); // 80 %: the warning (a timer more than SLA_TIMER_LATE_MS late would wait one grace)
    await waitFor(() => noticesOf(c.id, 'sla.warning').length > 0 || drain().then(() => false), { what: 'warning notice' });
    clock.advance(MIN);
    // the requeue request succeeded (routing answers it; while routing's responder is not there the peer does)
    const action = await waitFor(
      async () => (await slaDb(`SELECT ref, status, last_error FROM sla.timer WHERE conversation_id = $1 AND kind = 'action' AND status <> 'pending'`, [c.id]))[0],
      { what: 'requeue action' },
    );
    expect(action).toEqual({ ref: 'requeue:firstResponse', status: 'fired', last_error: null });
    const seen = requeues.find((r) => r.conversationId === c.id);
    if (seen) expect(seen).toMatchObject({ actor: { type: 'system', id: 'sla' }, reason: expect.stringMatching(/breached/) });
    expect((await slaOf(c.id)).escalations.map((e) => e.actions)).toEqual([['notify-managers'], ['notify-managers', 'requeue']]);
    expect((await peer.request(RankBySlaV1, { sort: 'breached', limit: 500 })).ids).toContain(c.id);
    expect((await peer.request(RankBySlaV1, { sort: 'due-soonest', limit: 500 })).ids).not.toContain(c.id);
  });

  it('an escalation action calls the other service outside any transaction (on PGlite, one open transaction holds every service)', async () => {
    const t = await team({ firstResponseMinutes: 5, onBreach: 'raise-priority', raiseTo: 'high' });
    const c = await conversation(t.number, clock.now());
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse);
    const bus = sla.get(Bus);
    const request = bus.request.bind(bus);
    const lockedDuringCall: boolean[] = [];
    const spy = jest.spyOn(bus, 'request').mockImplementation(async (contract, req, opts) => {
      if ((req as { conversationId?: string }).conversationId === c.id) {
        // the action row is locked while a transaction is open around this call
        const sql = `SELECT id FROM sla.timer WHERE conversation_id = $1 AND kind = 'action' AND status = 'pending'`;
        const all = await slaDb(sql, [c.id]);
        const free = await slaDb(`${sql} FOR UPDATE SKIP LOCKED`, [c.id]);
        lockedDuringCall.push(all.length !== free.length);
      }
      return request(contract, req, opts);
    });
    try {
      clock.advance(5 * MIN);
      await waitFor(async () => (await work(c.id)).priority === 'high', { what: 'priority raised' });
    } finally {
      spy.mockRestore();
    }
    expect(lockedDuringCall.length).toBeGreaterThan(0);
    expect(lockedDuringCall).not.toContain(true);
    const [action] = await slaDb(`SELECT status, late, attempts FROM sla.timer WHERE conversation_id = $1 AND kind = 'action'`, [c.id]);
    expect(action).toEqual({ status: 'fired', late: false, attempts: 0 });
  });

  it('24-hour window: the owner is warned before it closes; after it closes the API says so and free-form is refused', async () => {
    const t = await team({ firstResponseMinutes: 600, windowWarningMinutes: 120 });
    const owner = randomUUID();
    const sentAt = new Date(Date.now() - 21 * HOUR);
    clock.set(Date.now());
    const c = await conversation(t.number, sentAt);
    await assign(c.id, t.teamId, owner);
    expect((await slaOf(c.id)).window).toEqual({ closesAt: new Date(sentAt.getTime() + 24 * HOUR).toISOString(), open: true });
    await drain();
    await relayed();
    expect(noticesOf(c.id, 'window.closing')).toHaveLength(0); // 3 h left: not yet

    clock.set(sentAt.getTime() + 22 * HOUR + MIN);
    await waitFor(() => noticesOf(c.id, 'window.closing').length > 0, { what: 'window warning' });
    expect(noticesOf(c.id, 'window.closing')[0]).toMatchObject({ audience: { userIds: [owner] }, data: { closesAt: expect.any(String) } });

    clock.set(sentAt.getTime() + 24 * HOUR + MIN);
    expect((await slaOf(c.id)).window).toMatchObject({ open: false });

    // notifications (its own window projection, real time) refuses free-form once the window is closed
    const old = { id: randomUUID(), contactId: randomUUID(), number: t.number };
    const longAgo = new Date(Date.now() - 25 * HOUR);
    await peer.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: longAgo.toISOString(),
      conversationId: old.id,
      phoneNumberId: old.number,
      contactId: old.contactId,
      contactName: 'Late',
      waId: '4915111111111',
      userId: null,
      reopened: false,
    });
    await customerWrites(old, longAgo);
    clock.set(Date.now());
    const closed = await waitFor(async () => ((await slaOf(old.id)).window.closesAt ? (await slaOf(old.id)).window : null));
    expect(closed.open).toBe(false);
    const send = () =>
      peer.request(SendMessageV1, {
        idempotencyKey: randomUUID(),
        phoneNumberId: old.number,
        to: '4915111111111',
        conversationId: old.id,
        senderId: owner,
        senderName: 'Agent',
        message: { type: 'text', body: 'are you there?' },
      });
    const refused = await waitFor(() => send().then(() => null, (e: RemoteError) => (e.code === 'VALIDATION' ? e : null)), { what: 'refusal' });
    expect(refused.message).toMatch(/template/);
  });

  it('24-hour window with nobody owning the conversation: the managers are warned, and the escalation says so', async () => {
    const t = await team({ firstResponseMinutes: 600, windowWarningMinutes: 60 });
    const sentAt = new Date(Date.now() - 23 * HOUR - 30 * MIN);
    clock.set(Date.now());
    const c = await conversation(t.number, sentAt);
    await waitFor(() => noticesOf(c.id, 'window.closing').length > 0 || drain().then(() => false), { what: 'window warning' });
    expect(noticesOf(c.id, 'window.closing')[0].audience).toEqual({ userIds: [], teamManagersOf: t.teamId });
    // a later change of the work state (here: pending) re-syncs the clocks but does not warn about the same window again
    await setStatus(c.id, 'pending');
    await waitFor(async () => (await slaDb(`SELECT status FROM sla.conversation WHERE conversation_id = $1`, [c.id]))[0].status === 'pending');
    await drain();
    await relayed();
    expect(noticesOf(c.id, 'window.closing')).toHaveLength(1);
    const window = (await slaOf(c.id)).escalations.filter((e) => e.level === 'window.closing');
    expect(window.map((e) => e.actions)).toEqual([['notify-managers']]);
  });

  it('a window warning due before routing\'s work state reached sla waits for it: nobody is skipped, it is told once', async () => {
    const t = await team({ firstResponseMinutes: 600, windowWarningMinutes: 60 });
    const c = { id: randomUUID(), contactId: randomUUID(), number: t.number };
    const handler = sla.get(ClockEventsHandler);
    const sentAt = new Date(clock.now().getTime() - 23 * HOUR - 30 * MIN);
    // the customer's message is applied; the work state (team, owner) is still on its way from routing
    await handler.message(customerMessage(c, sentAt));
    await drain();
    await drain();
    expect((await slaOf(c.id)).escalations).toEqual([]); // not marked warned: there was nobody to tell
    await handler.work(opened(c, t.teamId, sentAt, sentAt));
    await waitFor(() => noticesOf(c.id, 'window.closing').length > 0 || drain().then(() => false), { what: 'window warning once the team is known' });
    await drain();
    await relayed();
    expect(noticesOf(c.id, 'window.closing')).toHaveLength(1);
    expect(noticesOf(c.id, 'window.closing')[0].audience).toEqual({ userIds: [], teamManagersOf: t.teamId });
    expect((await slaOf(c.id)).escalations.filter((e) => e.level === 'window.closing').map((e) => e.actions)).toEqual([['notify-managers']]);
  });

  it('reminders: set, fire once, list; a reminder on a conversation resolved meanwhile is cancelled', async () => {
    const t = await team();
    const c = await conversation(t.number, clock.now());
    const me: Actor = { ...ADMIN, id: randomUUID(), role: 'agent', teamIds: [t.teamId] };
    const r1 = await peer.request(CreateReminderV1, { actor: me, conversationId: c.id, at: new Date(clock.now().getTime() + 2 * HOUR).toISOString(), note: 'call back' });
    const r2 = await peer.request(CreateReminderV1, { actor: me, conversationId: c.id, at: new Date(clock.now().getTime() + 5 * HOUR).toISOString(), note: null });
    const r3 = await peer.request(CreateReminderV1, { actor: me, conversationId: c.id, at: new Date(clock.now().getTime() + 3 * HOUR).toISOString(), note: null });
    await expect(
      peer.request(CreateReminderV1, { actor: me, conversationId: c.id, at: new Date(clock.now().getTime() - MIN).toISOString(), note: null }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    await peer.request(CancelReminderV1, { actor: me, conversationId: c.id, id: r3.id });

    clock.advance(2 * HOUR);
    await waitFor(() => noticesOf(c.id, 'reminder').length > 0, { what: 'reminder notice' });
    expect(noticesOf(c.id, 'reminder')[0]).toMatchObject({ audience: { userIds: [me.id] }, body: 'call back', data: { reminderId: r1.id } });

    await setStatus(c.id, 'resolved');
    await waitFor(async () => (await slaDb(`SELECT state FROM sla.reminder WHERE id = $1`, [r2.id]))[0].state === 'cancelled', { what: 'cancelled on resolve' });
    clock.advance(10 * HOUR);
    await drain();
    await relayed();
    expect(noticesOf(c.id, 'reminder')).toHaveLength(1);
    const rows = await slaDb(`SELECT id, state, cancelled_reason FROM sla.reminder WHERE conversation_id = $1 ORDER BY at`, [c.id]);
    expect(rows).toEqual([
      { id: r1.id, state: 'fired', cancelled_reason: null },
      { id: r3.id, state: 'cancelled', cancelled_reason: 'cancelled' },
      { id: r2.id, state: 'cancelled', cancelled_reason: 'resolved' },
    ]);
  });

  it('"tomorrow 9:00": the next calendar day in the team\'s business-hours time zone (UTC without hours), across DST', async () => {
    const me: Actor = { type: 'user', id: randomUUID(), name: 'Agent', role: 'agent', teamIds: [] };
    const hours = await peer.request(CreateBusinessHoursV1, {
      actor: ADMIN,
      hours: { name: 'Berlin reminders', timeZone: 'Europe/Berlin', weekly: [{ day: 'mon', open: '09:00', close: '18:00' }], holidays: [] },
    });
    const berlin = await team({ businessHoursId: hours.id });
    const plain = await team();
    // Tuesday 23:30 in Berlin is still Tuesday 22:30 in UTC: "tomorrow" is Wednesday there
    clock.set('2026-11-24T23:30:00+01:00');
    const b = await conversation(berlin.number, clock.now());
    await waitFor(async () => (await slaDb(`SELECT team_id FROM sla.conversation WHERE conversation_id = $1`, [b.id]))[0]?.team_id === berlin.teamId, { what: 'team known' });
    const r = await peer.request(CreateReminderV1, { actor: me, conversationId: b.id, nextDayAt: '09:00', note: null });
    expect(r).toMatchObject({ at: '2026-11-25T08:00:00.000Z', timeZone: 'Europe/Berlin', state: 'pending' });
    // the night clocks go forward (CET → CEST): 09:00 the next day is 07:00 UTC
    clock.set('2027-03-27T12:00:00+01:00');
    await expect(peer.request(CreateReminderV1, { actor: me, conversationId: b.id, nextDayAt: '09:00', note: null })).resolves.toMatchObject({
      at: '2027-03-28T07:00:00.000Z',
    });
    // a team without business hours: UTC, said in the answer
    clock.set('2026-11-24T23:30:00+01:00');
    const p = await conversation(plain.number, clock.now());
    await waitFor(async () => (await slaDb(`SELECT team_id FROM sla.conversation WHERE conversation_id = $1`, [p.id]))[0]?.team_id === plain.teamId, { what: 'team known' });
    await expect(peer.request(CreateReminderV1, { actor: me, conversationId: p.id, nextDayAt: '09:00', note: null })).resolves.toMatchObject({
      at: '2026-11-25T09:00:00.000Z',
      timeZone: 'UTC',
    });
    // the team the caller read from routing wins over sla's projection (it may not have caught up yet)
    await expect(peer.request(CreateReminderV1, { actor: me, conversationId: p.id, nextDayAt: '09:00', teamId: berlin.teamId, note: null })).resolves.toMatchObject({
      at: '2026-11-25T08:00:00.000Z',
      timeZone: 'Europe/Berlin',
    });
    // a bad time or both ways of saying when never leave the caller
    expect(() => CreateReminderV1.request.parse({ actor: me, conversationId: p.id, nextDayAt: '24:00', note: null })).toThrow(/HH:MM/);
    expect(() => CreateReminderV1.request.parse({ actor: me, conversationId: p.id, nextDayAt: '09:00', at: clock.now().toISOString(), note: null })).toThrow(/exactly one/);
  });

  it('a reminder set after a reply (or a resolve) whose event is handled later is kept', async () => {
    const t = await team();
    const c = await conversation(t.number, clock.now());
    const me: Actor = { ...ADMIN, id: randomUUID(), role: 'agent', teamIds: [t.teamId] };
    const repliedAt = new Date(Date.now() - MIN);
    // "replied, remind me tomorrow": the reminder is stored before sla handles the reply's event
    const r = await peer.request(CreateReminderV1, { actor: me, conversationId: c.id, at: new Date(clock.now().getTime() + 20 * HOUR).toISOString(), note: 'follow up' });
    await agentReplies(c.id, t.number, me.id, repliedAt);
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse?.metAt, { what: 'reply handled' });
    const old = await slaDb(`SELECT state FROM sla.reminder WHERE id = $1`, [r.id]);
    expect(old).toEqual([{ state: 'pending' }]);
    // one set before a reply is still cancelled by it
    const before = await peer.request(CreateReminderV1, { actor: me, conversationId: c.id, at: new Date(clock.now().getTime() + 20 * HOUR).toISOString(), note: null });
    await agentReplies(c.id, t.number, me.id, new Date(Date.now() + MIN));
    await waitFor(async () => (await slaDb(`SELECT state FROM sla.reminder WHERE id = $1`, [before.id]))[0].state === 'cancelled', { what: 'cancelled by the later reply' });
    expect((await slaDb(`SELECT state FROM sla.reminder WHERE id = $1`, [r.id]))[0].state).toBe('cancelled');
  });

  it('follow-up rule: pending with no reply → template sent at most N times; a snoozed one that wakes tells its owner', async () => {
    const t = await team({ firstResponseMinutes: 600 });
    await peer.request(CreateFollowUpRuleV1, {
      actor: ADMIN,
      rule: { teamId: t.teamId, afterMinutes: 60, action: 'send-template', template: { name: 'still_there', language: 'en_US', bodyParameters: [] }, maxTimes: 2 },
    });
    // an approved template in notifications' store (as its Graph sync would leave it)
    await notifications
      .get(DataSource)
      .query(
        `INSERT INTO notifications.whatsapp_template (waba_id, name, language, status, body_param_count) VALUES ('100000000000001', 'still_there', 'en_US', 'APPROVED', 0) ON CONFLICT DO NOTHING`,
      );
    const owner = randomUUID();
    const c = await conversation(t.number, clock.now());
    await assign(c.id, t.teamId, owner);
    // ingest is not running here: the peer answers for the contact's WhatsApp id
    await peer.respond(GetConversationV1, async () => ({
        id: c.id,
        phoneNumberId: t.number,
        contact: { id: c.contactId, name: 'C', waId: c.waId, userId: null },
        status: 'open' as const,
        lastMessageAt: clock.now().toISOString(),
        lastInboundAt: clock.now().toISOString(),
        lastMessageText: 'hello',
        messageCount: 1,
        createdAt: clock.now().toISOString(),
      }));
    await agentReplies(c.id, t.number, owner);
    await setStatus(c.id, 'pending');
    await waitFor(async () => (await slaDb(`SELECT count(*)::int AS n FROM sla.timer WHERE conversation_id = $1 AND kind = 'follow-up' AND status = 'pending'`, [c.id]))[0].n === 1);

    const templateSends = () => notifSends(c.id);
    for (let i = 1; i <= 4; i++) {
      clock.advance(61 * MIN);
      await drain();
      await drain();
    }
    const sent = await waitFor(async () => ((await templateSends()).length >= 2 ? templateSends() : null), { what: 'two follow-ups' });
    expect(sent).toHaveLength(2);
    expect((await work(c.id)).status).toBe('pending');
    const view = await slaOf(c.id);
    expect(view.escalations.filter((e) => e.level === 'follow-up').map((e) => e.actions)).toEqual([['send-template:still_there'], ['send-template:still_there']]);

    // snoozed, then woken by routing's sweeper → the owner is told
    await setStatus(c.id, 'open');
    const w = await work(c.id);
    await peer.request(SetStatusV1, { actor: ADMIN, conversationId: c.id, version: w.version, status: 'snoozed', snoozeUntil: new Date(Date.now() + 1000).toISOString() });
    await waitFor(() => noticesOf(c.id, 'snooze.woke').length > 0, { what: 'woke notice', timeoutMs: 20_000 });
    expect(noticesOf(c.id, 'snooze.woke')[0].audience.userIds).toEqual([owner]);
  }, 40_000);

  it('follow-up rule "remind the owner": at most maxTimes per pending period', async () => {
    const t = await team({ firstResponseMinutes: 600 });
    await peer.request(CreateFollowUpRuleV1, { actor: ADMIN, rule: { teamId: t.teamId, afterMinutes: 30, action: 'remind-owner', maxTimes: 1 } });
    const owner = randomUUID();
    const c = await conversation(t.number, clock.now());
    await assign(c.id, t.teamId, owner);
    await agentReplies(c.id, t.number, owner);
    await setStatus(c.id, 'pending');
    await waitFor(async () => (await slaDb(`SELECT status FROM sla.conversation WHERE conversation_id = $1`, [c.id]))[0].status === 'pending');
    clock.advance(31 * MIN);
    await waitFor(() => noticesOf(c.id, 'reminder').length > 0, { what: 'follow-up reminder' });
    clock.advance(5 * 31 * MIN);
    await drain();
    await relayed();
    expect(noticesOf(c.id, 'reminder')).toHaveLength(1);
    expect(noticesOf(c.id, 'reminder')[0]).toMatchObject({ audience: { userIds: [owner] }, data: { followUp: 1, maxTimes: 1 } });
    expect((await slaOf(c.id)).escalations.filter((e) => e.level === 'follow-up').map((e) => e.actions)).toEqual([['remind-owner']]);
  });

  /** Template sends notifications queued for a conversation (read from its schema: it is the real service). */
  async function notifSends(conversationId: string): Promise<unknown[]> {
    return notifications.get(DataSource).query(`SELECT id FROM notifications.outbound_send WHERE conversation_id = $1 AND sender_id IS NULL`, [conversationId]);
  }

  it('a customer message handled before the resolve that preceded it still starts the next cycle', async () => {
    const t = await team({ firstResponseMinutes: 30 });
    const c = await conversation(t.number, clock.now());
    await agentReplies(c.id, t.number);
    await waitFor(async () => (await slaOf(c.id)).sla.firstResponse?.state === 'met');
    const w = await work(c.id);
    const handler = sla.get(ClockEventsHandler);
    const resolvedAt = new Date(clock.now().getTime() + MIN);
    const wroteAt = new Date(resolvedAt.getTime() + MIN);
    const state = (status: 'resolved' | 'open', version: number) => ({
      eventId: randomUUID(),
      occurredAt: resolvedAt.toISOString(),
      action: `conversation.${status}`,
      actor: { type: 'user', id: ADMIN.id, name: 'Admin' },
      state: { ...w, status, version, resolvedAt: status === 'resolved' ? resolvedAt.toISOString() : null },
    });
    clock.set(wroteAt);
    // the customer's new message is handled first, then the (earlier) resolve, then routing's reopen
    await handler.message(customerMessage({ id: c.id, contactId: c.contactId, number: t.number }, wroteAt));
    await handler.work(state('resolved', w.version + 100)); // far ahead of routing's own events for it
    await handler.work(state('open', w.version + 101));
    expect((await slaOf(c.id)).sla.firstResponse).toMatchObject({ state: 'ok', startedAt: wroteAt.toISOString() });
  });

  it('a first reply handled before sla knew the team still records first response (met)', async () => {
    const t = await team({ firstResponseMinutes: 30 });
    const c = { id: randomUUID(), contactId: randomUUID(), number: t.number };
    const handler = sla.get(ClockEventsHandler);
    const wrote = clock.now();
    await handler.message(customerMessage(c, wrote));
    clock.advance(5 * MIN);
    await handler.reply({
      eventId: randomUUID(),
      occurredAt: clock.now().toISOString(),
      sendId: randomUUID(),
      phoneNumberId: t.number,
      conversationId: c.id,
      to: '4915000000000',
      kind: 'text',
      text: 'hi',
      content: {},
      senderId: randomUUID(),
      senderName: 'Agent',
    });
    const now = clock.now().toISOString();
    await handler.work(opened(c, t.teamId, wrote, clock.now()));
    expect((await slaOf(c.id)).sla.firstResponse).toMatchObject({ state: 'met', startedAt: wrote.toISOString(), metAt: now });
  });

  it('a reply for a conversation sla never saw is dead-lettered with the reason', async () => {
    const ghost = randomUUID();
    await agentReplies(ghost, '4930999');
    const letters = await waitFor(
      async () => {
        const mine = (await peer.readDeadLetters(OutboundQueuedV1.subject)).filter((l) => l.payload.includes(ghost));
        return mine.length ? mine : null;
      },
      { what: 'dead letter' },
    );
    expect(letters[0]).toMatchObject({ consumer: expect.stringContaining('sla-clocks-on-reply'), error: expect.stringMatching(`unknown conversation ${ghost}`) });
  });
});
