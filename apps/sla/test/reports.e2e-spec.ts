import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import {
  AgentStatusChangedV1,
  ConversationAssignedV1,
  ConversationOpenedV1,
  ConversationResolvedV1,
  ConversationWorkChangedV1,
  CreateBusinessHoursV1,
  CreateSlaPolicyV1,
  DashboardDrillV1,
  GetDashboardV1,
  GetReportV1,
  MessageReceivedV1,
  OutboundQueuedV1,
  ReportRowsV1,
  type Actor,
  type ReportFilter,
} from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { ManualClock } from '../src/clock/clock';
import { SlaConfigSchema } from '../src/config';
import { SlaModule } from '../src/sla.module';
import { TimerWorker } from '../src/timers/timer.worker';

/**
 * Reports over a seeded week (Mon 2 – Sun 8 Nov 2026, Europe/Berlin = UTC+1, office Mon–Fri 09:00–17:00) on real
 * PostgreSQL and NATS. Events are published as ingest/routing would, in time order, with sla's clock moved to each
 * event's time (never slept through). Every expected number is computed here from the seeded inputs.
 */
const MIN = 60_000;
const ADMIN: Actor = { type: 'user', id: randomUUID(), name: 'Admin', role: 'admin', teamIds: [] };
const at = (local: string) => new Date(`${local}+01:00`);

/** Linear-interpolated percentile (PostgreSQL's percentile_cont). */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const r = p * (s.length - 1);
  const lo = Math.floor(r);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (r - lo);
}
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Business minutes between two instants of the seeded week: Mon–Fri 09:00–17:00 Berlin. */
function businessMs(a: Date, b: Date): number {
  let sum = 0;
  for (let t = a.getTime(); t < b.getTime(); t += MIN) {
    const local = new Date(t + 60 * MIN); // UTC+1 all week
    const day = local.getUTCDay();
    const m = local.getUTCHours() * 60 + local.getUTCMinutes();
    if (day >= 1 && day <= 5 && m >= 9 * 60 && m < 17 * 60) sum += MIN;
  }
  return sum;
}

describe('reports: a seeded week with known answers (real PostgreSQL + NATS)', () => {
  let env: TestEnv;
  let sla: INestApplication;
  let peer: NatsBus;
  const clock = new ManualClock(at('2026-11-01T12:00:00').getTime());
  const teamId = randomUUID();
  const otherTeam = randomUUID();
  const number = '4930111222';
  const alice = randomUUID();
  const bob = randomUUID();
  const db = (sql: string, p: unknown[] = []) => sla.get(DataSource).query(sql, p);

  // conversation: opened (= customer message) at, first reply at/by, resolved at; c3 breaches its 30-minute target
  const seeds = [
    { opened: at('2026-11-02T10:00:00'), reply: at('2026-11-02T10:05:00'), by: alice, resolved: at('2026-11-02T11:00:00') },
    { opened: at('2026-11-02T16:50:00'), reply: at('2026-11-03T09:15:00'), by: alice, resolved: at('2026-11-03T10:00:00') },
    { opened: at('2026-11-03T11:00:00'), reply: at('2026-11-03T11:40:00'), by: bob, resolved: at('2026-11-03T15:00:00') },
    { opened: at('2026-11-04T09:00:00'), reply: at('2026-11-04T09:10:00'), by: bob, resolved: null },
    { opened: at('2026-11-05T14:00:00'), reply: at('2026-11-05T14:15:00'), by: alice, resolved: at('2026-11-06T10:00:00') },
    { opened: at('2026-11-06T18:00:00'), reply: at('2026-11-06T18:20:00'), by: alice, resolved: null },
  ].map((s) => ({ ...s, id: randomUUID(), contactId: randomUUID(), owner: s.by }));
  // agent availability: alice online Mon 08:00–12:00 and 13:00–18:00, Tue 09:00–17:00
  const statuses: { who: string; status: 'online' | 'away' | 'offline'; at: Date }[] = [
    { who: alice, status: 'online', at: at('2026-11-02T08:00:00') },
    { who: alice, status: 'away', at: at('2026-11-02T12:00:00') },
    { who: alice, status: 'online', at: at('2026-11-02T13:00:00') },
    { who: alice, status: 'offline', at: at('2026-11-02T18:00:00') },
    { who: alice, status: 'online', at: at('2026-11-03T09:00:00') },
    { who: alice, status: 'offline', at: at('2026-11-03T17:00:00') },
    { who: bob, status: 'online', at: at('2026-11-03T10:30:00') },
  ];
  const week: ReportFilter = { from: at('2026-11-02T00:00:00').toISOString(), to: at('2026-11-09T00:00:00').toISOString(), tz: 'Europe/Berlin', teamIds: null };
  const end = at('2026-11-09T12:00:00');

  const versions = new Map<string, number>();
  async function work(s: (typeof seeds)[number], t: Date, ownerId: string | null, status: 'open' | 'resolved', team = teamId) {
    const version = (versions.get(s.id) ?? 0) + 1;
    versions.set(s.id, version);
    await peer.publish(ConversationWorkChangedV1, {
      eventId: randomUUID(),
      occurredAt: t.toISOString(),
      action: 'test',
      actor: { type: 'system', id: 'test', name: null },
      state: {
        conversationId: s.id, phoneNumberId: number, contactId: s.contactId, teamId: team, ownerId, status, snoozeUntil: null, priority: 'normal',
        labels: [], version, openedAt: s.opened.toISOString(), lastMessageAt: null, resolvedAt: status === 'resolved' ? t.toISOString() : null, updatedAt: t.toISOString(),
      },
    });
    await waitFor(async () => (await db(`SELECT 1 FROM sla.rpt_state WHERE conversation_id = $1 AND version = $2`, [s.id, version])).length > 0, { what: 'state projected' });
    await waitFor(async () => (await db(`SELECT routing_version FROM sla.conversation WHERE conversation_id = $1`, [s.id]))[0]?.routing_version >= version, { what: 'sla saw the state' });
  }

  /** The live counters recounted from the work rows: a bot-held row (nobody owns it) under the owner BOT, nobody NIL. */
  const recountLive = () =>
    db(
      `SELECT coalesce(team_id, $1) AS team_id, coalesce(owner_id, CASE WHEN bot_held THEN $2::uuid END, $1) AS owner_id, status, sla_state, count(*)::int AS n
       FROM sla.rpt_work WHERE status <> 'resolved' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
    );

  beforeAll(async () => {
    env = await createTestEnv({ SLA_TIMER_POLL_MS: '0', SLA_EVENT_BACKOFF_MS: '50' });
    sla = await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env), { clock }));
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    const hours = await peer.request(CreateBusinessHoursV1, {
      actor: ADMIN,
      hours: { name: 'Office', timeZone: 'Europe/Berlin', weekly: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, open: '09:00', close: '17:00' })), holidays: [] },
    });
    await peer.request(CreateSlaPolicyV1, { actor: ADMIN, policy: { name: 'Support', teamId, firstResponseMinutes: 30, businessHoursId: hours.id } });

    // every event in time order, sla's clock at the event's time
    type Step = { t: Date; run: () => Promise<void> };
    const steps: Step[] = [];
    for (const s of seeds) {
      steps.push({
        t: s.opened,
        run: async () => {
          await peer.publish(ConversationOpenedV1, {
            eventId: randomUUID(), occurredAt: s.opened.toISOString(), conversationId: s.id, phoneNumberId: number, contactId: s.contactId,
            contactName: null, waId: null, userId: null, reopened: false,
          });
          await work(s, s.opened, s.owner, 'open');
          await peer.publish(ConversationAssignedV1, {
            eventId: randomUUID(), occurredAt: s.opened.toISOString(), conversationId: s.id, reason: 'route', teamId, ownerId: s.owner,
            previousTeamId: null, previousOwnerId: null, note: null, actor: { type: 'system', id: 'routing', name: null }, version: versions.get(s.id)!,
          });
          await peer.publish(MessageReceivedV1, {
            eventId: randomUUID(), occurredAt: s.opened.toISOString(), conversationId: s.id, phoneNumberId: number, contactId: s.contactId,
            messageId: randomUUID(), waMessageId: `wamid.${randomUUID()}`, direction: 'inbound', origin: 'customer', type: 'text', text: 'hi', sentAt: s.opened.toISOString(),
          });
          await waitFor(async () => (await db(`SELECT 1 FROM sla.clock WHERE conversation_id = $1`, [s.id])).length > 0, { what: 'first-response clock' });
          await waitFor(async () => (await db(`SELECT 1 FROM sla.rpt_message WHERE conversation_id = $1`, [s.id])).length > 0, { what: 'message projected' });
        },
      });
      steps.push({
        t: s.reply,
        run: async () => {
          await peer.publish(OutboundQueuedV1, {
            eventId: randomUUID(), occurredAt: s.reply.toISOString(), sendId: randomUUID(), phoneNumberId: number, conversationId: s.id, to: '4917000',
            kind: 'text', text: 'on it', content: {}, senderId: s.by, senderName: null,
          });
          await waitFor(async () => (await db(`SELECT met_at FROM sla.clock WHERE conversation_id = $1 AND target = 'firstResponse'`, [s.id]))[0]?.met_at, { what: 'clock met' });
          await waitFor(async () => (await db(`SELECT 1 FROM sla.rpt_episode WHERE conversation_id = $1 AND first_response_at IS NOT NULL`, [s.id])).length > 0, { what: 'episode' });
        },
      });
      if (s.resolved)
        steps.push({
          t: s.resolved,
          run: async () => {
            await peer.publish(ConversationResolvedV1, { eventId: randomUUID(), occurredAt: s.resolved!.toISOString(), conversationId: s.id, resolvedBy: s.owner });
            await work(s, s.resolved!, s.owner, 'resolved');
            await waitFor(async () => (await db(`SELECT 1 FROM sla.rpt_episode WHERE conversation_id = $1 AND resolved_at IS NOT NULL`, [s.id])).length > 0, { what: 'resolved' });
          },
        });
    }
    for (const st of statuses)
      steps.push({
        t: st.at,
        run: async () => {
          await peer.publish(AgentStatusChangedV1, { eventId: randomUUID(), occurredAt: st.at.toISOString(), userId: st.who, status: st.status, previous: null, setBy: 'agent', teamIds: [teamId] });
          await waitFor(async () => (await db(`SELECT 1 FROM sla.rpt_agent_status WHERE user_id = $1 AND at = $2`, [st.who, st.at])).length > 0, { what: 'status' });
        },
      });
    steps.push({ t: at('2026-11-03T11:30:00'), run: async () => undefined }); // c3's due time: the timer fires then
    steps.sort((a, b) => a.t.getTime() - b.t.getTime());
    for (const st of steps) {
      clock.set(st.t);
      await sla.get(TimerWorker).drain(); // due timers (the breach of c3 at 11:30) fire at their time
      await st.run();
    }
    clock.set(end);
    await sla.get(TimerWorker).drain();
  }, 120_000);

  afterAll(async () => {
    await peer?.close();
    await sla?.close();
    await env?.cleanup();
  });

  const report = (kind: 'first-response' | 'resolution' | 'sla' | 'volume' | 'agents', f: Partial<ReportFilter> = {}, agentIds?: string[]) =>
    peer.request(GetReportV1, { kind, filter: { ...week, ...f }, agentIds });
  const stats = (ms: number[]) => ({ count: ms.length, medianSeconds: percentile(ms, 0.5) / 1000, p90Seconds: percentile(ms, 0.9) / 1000, averageSeconds: avg(ms) / 1000 });
  const close = (a: { medianSeconds: number | null; p90Seconds: number | null; averageSeconds: number | null; count: number }, b: ReturnType<typeof stats>) => {
    expect(a.count).toBe(b.count);
    for (const k of ['medianSeconds', 'p90Seconds', 'averageSeconds'] as const) expect(a[k]).toBeCloseTo(b[k], 6);
  };

  it('first-response time: median, p90, average in wall-clock and business hours, per agent', async () => {
    const r = await report('first-response');
    if (r.kind !== 'first-response') throw new Error('wrong kind');
    close(r.wallClock, stats(seeds.map((s) => s.reply.getTime() - s.opened.getTime())));
    close(r.businessHours, stats(seeds.map((s) => businessMs(s.opened, s.reply))));
    // by hand for the business figures: 5, 25, 40, 10, 15, 0 minutes → median 12.5 min, p90 32.5 min
    expect(r.businessHours.medianSeconds).toBe(12.5 * 60);
    expect(r.businessHours.p90Seconds).toBe(32.5 * 60);
    const a = await report('first-response', { agentId: alice });
    if (a.kind !== 'first-response') throw new Error('wrong kind');
    close(a.wallClock, stats(seeds.filter((s) => s.by === alice).map((s) => s.reply.getTime() - s.opened.getTime())));
  });

  it('resolution time counts resolved episodes only; another team sees nothing', async () => {
    const r = await report('resolution');
    if (r.kind !== 'resolution') throw new Error('wrong kind');
    const done = seeds.filter((s) => s.resolved);
    close(r.wallClock, stats(done.map((s) => s.resolved!.getTime() - s.opened.getTime())));
    close(r.businessHours, stats(done.map((s) => businessMs(s.opened, s.resolved!))));
    const other = await report('resolution', { teamIds: [otherTeam] });
    expect(other).toMatchObject({ wallClock: { count: 0, medianSeconds: null } });
  });

  it('SLA attainment per target, team and agent; the breach is listed with its reason', async () => {
    const r = await report('sla');
    if (r.kind !== 'sla') throw new Error('wrong kind');
    const breached = seeds.filter((s) => businessMs(s.opened, s.reply) > 30 * MIN);
    expect(breached).toHaveLength(1);
    const first = r.targets.find((t) => t.target === 'firstResponse')!;
    expect(first).toEqual({ target: 'firstResponse', decided: 6, met: 5, breached: 1, attainmentPercent: Math.round((5 / 6) * 10000) / 100 });
    expect(r.byTeam).toEqual([{ target: 'firstResponse', teamId, decided: 6, met: 5, breached: 1, attainmentPercent: 83.33 }]);
    const bobRow = r.byAgent.find((x) => x.agentId === bob)!;
    expect(bobRow).toMatchObject({ decided: 2, met: 1, breached: 1, attainmentPercent: 50 });
    expect(r.breaches).toEqual([
      expect.objectContaining({ conversationId: breached[0].id, target: 'firstResponse', agentId: bob, breachedAt: at('2026-11-03T11:30:00').toISOString(), reason: `no first reply within 30 min; owned by ${bob} at the breach; met later` }),
    ]);
  });

  it('volume: opened/resolved, messages in/out by hour of day and weekday in the asked time zone', async () => {
    const r = await report('volume');
    if (r.kind !== 'volume') throw new Error('wrong kind');
    const hourOf = (d: Date, tz: string) => Number(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(d));
    const expectIn = Array(24).fill(0);
    const expectOut = Array(24).fill(0);
    for (const s of seeds) {
      expectIn[hourOf(s.opened, 'Europe/Berlin')]++;
      expectOut[hourOf(s.reply, 'Europe/Berlin')]++;
    }
    expect(r).toMatchObject({ conversationsOpened: 6, conversationsResolved: seeds.filter((s) => s.resolved).length, messagesIn: 6, messagesOut: 6 });
    expect(r.byHour.map((h) => h.in)).toEqual(expectIn);
    expect(r.byHour.map((h) => h.out)).toEqual(expectOut);
    expect(r.byWeekday.map((d) => d.in)).toEqual([2, 1, 1, 1, 1, 0, 0]); // Mon 2, Tue, Wed, Thu, Fri
    // the same messages in UTC move one hour earlier
    const utc = await report('volume', { tz: 'UTC' });
    if (utc.kind !== 'volume') throw new Error('wrong kind');
    expect(utc.byHour.map((h) => h.in)).toEqual(seeds.reduce((acc, s) => (acc[hourOf(s.opened, 'UTC')]++, acc), Array(24).fill(0)));
    // and in a half-hour zone the buckets still fall in the right local hour
    const india = await report('volume', { tz: 'Asia/Kolkata' });
    if (india.kind !== 'volume') throw new Error('wrong kind');
    expect(india.byHour.map((h) => h.out)).toEqual(seeds.reduce((acc, s) => (acc[hourOf(s.reply, 'Asia/Kolkata')]++, acc), Array(24).fill(0)));
  });

  it('agent activity: online time from status changes, replies, conversations handled', async () => {
    const r = await report('agents', {}, [alice, bob]);
    if (r.kind !== 'agents') throw new Error('wrong kind');
    const onlineSeconds = (who: string) => {
      const mine = statuses.filter((s) => s.who === who);
      let sum = 0;
      mine.forEach((s, i) => {
        if (s.status !== 'online') return;
        const until = mine[i + 1]?.at ?? new Date(Math.min(end.getTime(), Date.parse(week.to)));
        sum += (until.getTime() - s.at.getTime()) / 1000;
      });
      return sum;
    };
    expect(onlineSeconds(alice)).toBe((4 + 5 + 8) * 3600);
    const row = (who: string) => ({
      agentId: who,
      onlineSeconds: onlineSeconds(who),
      conversationsHandled: seeds.filter((s) => s.by === who).length,
      replies: seeds.filter((s) => s.by === who).length,
      handoffsGiven: 0,
      handoffsReceived: 0,
      systemReassignments: 0,
    });
    expect(r.agents).toEqual([row(alice), row(bob)].sort((a, b) => a.agentId.localeCompare(b.agentId)));
  });

  it('the raw rows behind a report (paged by cursor) recompute the same figures as the pre-aggregate', async () => {
    const rows: (string | number | null)[][] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof peer.request<typeof ReportRowsV1>>> = await peer.request(ReportRowsV1, { kind: 'first-response', filter: week, cursor, limit: 4 });
      rows.push(...page.rows);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(rows.map((r) => r[0]).sort()).toEqual(seeds.map((s) => s.id).sort());
    const r = await report('first-response');
    if (r.kind !== 'first-response') throw new Error('wrong kind');
    close(r.wallClock, stats(rows.map((x) => Number(x[6]) * 1000)));
    // and the aggregate equals a recomputation from the raw facts in SQL
    const [raw] = await db(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median FROM (
      SELECT (SELECT min(m.at) FROM sla.rpt_message m WHERE m.conversation_id = o.conversation_id AND m.direction = 'out' AND m.sender_id IS NOT NULL AND m.at >= o.at) - o.at AS d,
        extract(epoch FROM (SELECT min(m.at) FROM sla.rpt_message m WHERE m.conversation_id = o.conversation_id AND m.direction = 'out' AND m.sender_id IS NOT NULL AND m.at >= o.at) - o.at) * 1000 AS ms
      FROM sla.rpt_open o) x`);
    expect(Number(raw.median) / 1000).toBeCloseTo(r.wallClock.medianSeconds!, 6);
  });

  it('a redelivered event changes nothing', async () => {
    const s = seeds[0];
    const before = await db(`SELECT count(*)::int AS n FROM sla.rpt_message`);
    const e = { eventId: randomUUID(), occurredAt: s.reply.toISOString(), sendId: randomUUID(), phoneNumberId: number, conversationId: s.id, to: '4917000', kind: 'text', text: 'x', content: {}, senderId: s.by, senderName: null };
    await peer.publish(OutboundQueuedV1, e);
    await peer.publish(OutboundQueuedV1, e, { msgId: randomUUID() });
    await waitFor(async () => (await db(`SELECT count(*)::int AS n FROM sla.rpt_message`))[0].n === before[0].n + 1, { what: 'one row' });
    await sla.get(TimerWorker).drain();
    expect((await db(`SELECT count(*)::int AS n FROM sla.rpt_message WHERE event_id = $1`, [e.eventId]))[0].n).toBe(1);
  });

  it('the dashboard counts a team’s open conversations, owners and replies in the last hour', async () => {
    clock.set(at('2026-11-06T18:30:00'));
    const d = await peer.request(GetDashboardV1, { teamIds: [teamId], userIds: [alice, bob] });
    const open = seeds.filter((s) => !s.resolved);
    expect(d.teams).toEqual([expect.objectContaining({ teamId, byStatus: { open: open.length, pending: 0, snoozed: 0 }, queue: { length: 0, oldestQueuedAt: null } })]);
    expect(d.owners.find((o) => o.userId === alice)).toMatchObject({ owned: { open: 1, pending: 0, snoozed: 0 }, repliesLastHour: 1 });
    expect(d.owners.find((o) => o.userId === bob)).toMatchObject({ owned: { open: 1, pending: 0, snoozed: 0 }, repliesLastHour: 0 });
    clock.set(end);
  });

  it('the live counters equal a recount of the work rows, and the dashboard the row-by-row definition at every boundary', async () => {
    const NIL = '00000000-0000-0000-0000-000000000000';
    // the pre-aggregates (kept by triggers from every change of rpt_work) against a recount of the rows
    const counters = await db(`SELECT team_id, owner_id, status, sla_state, n FROM sla.rpt_live_count WHERE n <> 0 ORDER BY 1, 2, 3, 4`);
    const recount = await recountLive();
    expect(recount.map((r: any) => [r.team_id, r.owner_id, r.status, r.n]).sort()).toEqual(
      [
        [teamId, alice, 'open', 1],
        [teamId, bob, 'open', 1],
      ].sort(),
    );
    expect(counters).toEqual(recount);
    const ages = await db(`SELECT team_id, status, opened_hour, n FROM sla.rpt_live_age WHERE n <> 0 ORDER BY 1, 2, 3`);
    const ageRecount = await db(
      `SELECT coalesce(team_id, $1) AS team_id, status, coalesce(date_bin('1 hour', opened_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), '-infinity') AS opened_hour, count(*)::int AS n
       FROM sla.rpt_work WHERE status <> 'resolved' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [NIL],
    );
    expect(ages).toEqual(ageRecount);
    expect(ages.map((a: any) => a.n)).toEqual([1, 1]);

    // the dashboard (from the counters) against its definition applied row by row, with the clock just before, at and
    // just after each age-bucket boundary and 24-hour-window boundary of the open conversations
    const HOUR = 60 * MIN;
    const open = seeds.filter((s) => !s.resolved);
    const instants = open.flatMap((s) => [1, 4, 24, 72, 22].flatMap((h) => [-1, 0, 1].map((d) => new Date(s.opened.getTime() + h * HOUR + d))));
    const bucket = (age: number) => (age < HOUR ? 'lt1h' : age < 4 * HOUR ? '1to4h' : age < 24 * HOUR ? '4to24h' : age < 72 * HOUR ? '1to3d' : 'gt3d');
    const seen = new Set<string>();
    for (const now of instants) {
      clock.set(now);
      const d = await peer.request(GetDashboardV1, { teamIds: [teamId], userIds: [alice, bob] });
      const rows = await db(`SELECT * FROM sla.rpt_work WHERE status <> 'resolved' AND team_id = $1`, [teamId]);
      const t = now.getTime();
      const age = Object.fromEntries(
        (['open', 'pending', 'snoozed'] as const).map((st) => [
          st,
          Object.fromEntries(['lt1h', '1to4h', '4to24h', '1to3d', 'gt3d'].map((b) => [b, rows.filter((w: any) => w.status === st && bucket(t - w.opened_at.getTime()) === b).length])),
        ]),
      );
      const closing = rows.filter((w: any) => w.last_inbound_at && w.last_inbound_at.getTime() + 24 * HOUR > t && w.last_inbound_at.getTime() + 24 * HOUR <= t + 2 * HOUR);
      expect(d.teams[0]).toMatchObject({
        teamId,
        queue: { length: 0, oldestQueuedAt: null },
        byStatus: { open: rows.length, pending: 0, snoozed: 0 },
        age,
        sla: { atRisk: rows.filter((w: any) => w.sla_state === 'warning').length, breached: rows.filter((w: any) => w.sla_state === 'breached').length },
        windowsClosingIn2h: closing.length,
      });
      for (const who of [alice, bob]) {
        const mine = rows.filter((w: any) => w.owner_id === who);
        const waiting = mine.map((w: any) => w.awaiting_since).filter(Boolean).sort((a: Date, b: Date) => a.getTime() - b.getTime());
        expect(d.owners.find((o) => o.userId === who)).toMatchObject({ owned: { open: mine.length, pending: 0, snoozed: 0 }, oldestWaitingSince: waiting[0]?.toISOString() ?? null });
      }
      // asked without a list of agents (as the gateway does), every owner and replier of the scope is answered
      const all = await peer.request(GetDashboardV1, { teamIds: [teamId], userIds: null });
      expect(all.teams).toEqual(d.teams);
      expect([...all.owners].sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([...d.owners].sort((a, b) => a.userId.localeCompare(b.userId)));
      seen.add(JSON.stringify([d.teams[0].age.open, d.teams[0].windowsClosingIn2h]));
    }
    // the instants do cross boundaries: the figures differ between them
    expect(seen.size).toBeGreaterThanOrEqual(6);
    clock.set(end);
  });

  it('a conversation a bot holds is counted "with a bot", not in the queue; handed over, it is queued; the counters still equal a recount', async () => {
    clock.set(end);
    const id = randomUUID();
    const opened = new Date(end.getTime() - 30 * MIN);
    const state = (version: number, bot: boolean, status: 'open' | 'resolved') =>
      peer
        .publish(ConversationWorkChangedV1, {
          eventId: randomUUID(),
          occurredAt: new Date(opened.getTime() + version * MIN).toISOString(),
          action: 'test',
          actor: { type: 'system', id: 'test', name: null },
          state: {
            conversationId: id, phoneNumberId: number, contactId: randomUUID(), teamId, ownerId: null, status, snoozeUntil: null, priority: 'normal', labels: [], version,
            openedAt: opened.toISOString(), lastMessageAt: null, resolvedAt: status === 'resolved' ? end.toISOString() : null, updatedAt: end.toISOString(),
            bot: bot ? { id: randomUUID(), name: 'Helper bot', since: opened.toISOString() } : null,
          },
        })
        .then(() => waitFor(async () => (await db(`SELECT 1 FROM sla.rpt_work WHERE conversation_id = $1 AND version = $2`, [id, version])).length > 0, { what: 'state projected' }));
    const dashboard = () => peer.request(GetDashboardV1, { teamIds: [teamId], userIds: null });
    const queued = async () => (await peer.request(DashboardDrillV1, { teamIds: [teamId], metric: 'queue', limit: 500 })).items.map((i) => i.conversationId);
    const before = (await dashboard()).teams[0];
    expect(before.withBot).toBe(0);

    await state(1, true, 'open');
    const held = await dashboard();
    expect(held.teams[0]).toMatchObject({ queue: before.queue, withBot: 1, byStatus: { ...before.byStatus, open: before.byStatus.open + 1 } });
    expect(await queued()).not.toContain(id);
    expect(held.owners.map((o) => o.userId)).not.toContain('ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(await db(`SELECT team_id, owner_id, status, sla_state, n FROM sla.rpt_live_count WHERE n <> 0 ORDER BY 1, 2, 3, 4`)).toEqual(await recountLive());

    // the bot hands over (nobody owns it): it waits in the queue from then
    await state(2, false, 'open');
    const handed = (await dashboard()).teams[0];
    expect(handed).toMatchObject({ queue: { length: before.queue.length + 1 }, withBot: 0 });
    if (before.queue.oldestQueuedAt === null) expect(handed.queue.oldestQueuedAt).toBe(new Date(opened.getTime() + 2 * MIN).toISOString());
    expect(await queued()).toContain(id);
    expect(await db(`SELECT team_id, owner_id, status, sla_state, n FROM sla.rpt_live_count WHERE n <> 0 ORDER BY 1, 2, 3, 4`)).toEqual(await recountLive());

    await state(3, false, 'resolved');
    expect((await dashboard()).teams[0]).toMatchObject({ queue: before.queue, withBot: 0, byStatus: before.byStatus });
  });

  it('refuses a reversed range, a range over 366 days and an unknown time zone', async () => {
    await expect(report('volume', { from: week.to, to: week.from })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(report('volume', { from: '2024-01-01T00:00:00Z', to: '2025-06-01T00:00:00Z' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(report('volume', { tz: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/time zone/) });
  });
});
