import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK_TARGETS, REPORT_MAX_DAYS, type ReportFilter, type ReportKind, type ReportResult, type ResponseOf, ReportRowsV1 } from '@app/contracts';
import { ValidationError } from '@app/messaging';
import { Clock } from '../clock/clock';
import { isValidTimeZone } from '../hours/calendar';
import { decodeCursor, encodeCursor, Where } from './report-filter';

const DAY = 86_400_000;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const secs = (ms: unknown) => (ms === null || ms === undefined ? null : Number(ms) / 1000);
/** Most JSON a page of raw rows may carry (NATS's max_payload is 1 MiB by default; the reply envelope adds a little). */
const PAGE_BYTES = 768 * 1024;

/** The clocks decided (met or breached) with their team, number, agent (owner when decided) and decision time. */
const DECIDED = `SELECT clock_id AS id, conversation_id, target, started_at, due_at, met_at, breached_at, target_ms, team_id, phone_number_id, decided_at, agent_id
  FROM sla.rpt_clock`;

/** Reports computed from the reporting projection by the definitions of docs/METRICS.md. */
@Injectable()
export class ReportsService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Bad input is refused here too (the gateway checks first), so no caller gets an unbounded query. */
  check(kind: ReportKind, f: ReportFilter): void {
    const from = Date.parse(f.from);
    const to = Date.parse(f.to);
    if (!(to > from)) throw new ValidationError('to must be after from');
    if (to - from > REPORT_MAX_DAYS * DAY) throw new ValidationError(`the range may span at most ${REPORT_MAX_DAYS} days`);
    if (!isValidTimeZone(f.tz)) throw new ValidationError(`tz: unknown time zone "${f.tz}" (use an IANA name like Europe/Berlin)`);
    if (kind === 'volume' && f.agentId) throw new ValidationError('agentId does not apply to the volume report (see the agents report)');
  }

  async report(kind: ReportKind, f: ReportFilter, agentIds?: string[]): Promise<ReportResult> {
    this.check(kind, f);
    switch (kind) {
      case 'first-response':
        return { kind, ...(await this.durations(f, 'first_response_at', 'responder_id', 'frt')) };
      case 'resolution':
        return { kind, ...(await this.durations(f, 'resolved_at', 'resolver_id', 'resolution')) };
      case 'sla':
        return this.sla(f);
      case 'volume':
        return this.volume(f);
      case 'agents':
        return this.agents(f, agentIds);
      case 'csat':
        return this.csat(f);
    }
  }

  private csatWhere(f: ReportFilter): Where {
    return new Where().range('sent_at', f).teams('team_id', f).eq('agent_id', f.agentId, 'uuid').eq('phone_number_id', f.phoneNumberId);
  }

  /** Over the surveys sent in the range: response rate = rated ÷ sent, score = share of 4–5 among the rated. */
  private async csat(f: ReportFilter): Promise<ReportResult> {
    const w = this.csatWhere(f);
    const [groups, dist] = await Promise.all([
      this.ds.query(
        `SELECT team_id, agent_id, GROUPING(team_id) AS g_team, GROUPING(agent_id) AS g_agent, count(*)::int AS sent, count(rating)::int AS rated,
           count(*) FILTER (WHERE rating >= 4)::int AS satisfied, avg(rating)::float AS average
         FROM sla.rpt_csat ${w} GROUP BY GROUPING SETS ((), (team_id), (agent_id))`,
        w.params,
      ),
      this.ds.query(`SELECT rating, count(*)::int AS n FROM sla.rpt_csat ${w} AND rating IS NOT NULL GROUP BY rating`, w.params),
    ]);
    const total = groups.find((g: any) => g.g_team === 1 && g.g_agent === 1) ?? { sent: 0, rated: 0, satisfied: 0, average: null };
    const byRating = new Map<number, number>(dist.map((d: any) => [Number(d.rating), d.n]));
    return {
      kind: 'csat',
      ...csatFigures(total),
      distribution: [1, 2, 3, 4, 5].map((rating) => ({ rating, count: byRating.get(rating) ?? 0 })),
      byTeam: groups.filter((g: any) => g.g_team === 0).map((g: any) => ({ ...csatFigures(g), teamId: g.team_id })),
      byAgent: groups.filter((g: any) => g.g_agent === 0).map((g: any) => ({ ...csatFigures(g), agentId: g.agent_id })),
    };
  }

  private async durations(f: ReportFilter, timeCol: string, agentCol: string, prefix: 'frt' | 'resolution') {
    const w = new Where().range(`e.${timeCol}`, f).teams('e.team_id', f).eq(`e.${agentCol}`, f.agentId).eq('e.phone_number_id', f.phoneNumberId);
    const stats = (col: string) => `count(${col})::int AS ${col}_n, percentile_cont(0.5) WITHIN GROUP (ORDER BY ${col}) AS ${col}_median,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY ${col}) AS ${col}_p90, avg(${col}) AS ${col}_avg`;
    const wall = `${prefix}_ms`;
    const biz = `${prefix === 'frt' ? 'frt' : 'resolution'}_business_ms`;
    // wall-clock and business figures as two queries on two connections: each percentile sorts every value, and the
    // two sorts then run side by side instead of one after the other
    const [[a], [b]] = await Promise.all([wall, biz].map((col) => this.ds.query(`SELECT ${stats(col)} FROM sla.rpt_episode e ${w}`, w.params)));
    const r = { ...a, ...b };
    const pick = (col: string) => ({ count: r[`${col}_n`], medianSeconds: secs(r[`${col}_median`]), p90Seconds: secs(r[`${col}_p90`]), averageSeconds: secs(r[`${col}_avg`]) });
    return { wallClock: pick(wall), businessHours: pick(biz) };
  }

  private slaWhere(f: ReportFilter): Where {
    return new Where().range('decided_at', f).teams('team_id', f).eq('agent_id', f.agentId, 'uuid').eq('phone_number_id', f.phoneNumberId);
  }

  private async sla(f: ReportFilter): Promise<ReportResult> {
    const w = this.slaWhere(f);
    const w2 = this.slaWhere(f).add('breached_at IS NOT NULL');
    const LIMIT = 500;
    // the attainment figures and the breaches listed, side by side on two connections
    const [rows, breaches] = await Promise.all([
      this.ds.query(
        `WITH d AS (${DECIDED}) SELECT target, team_id, agent_id, GROUPING(team_id) AS g_team, GROUPING(agent_id) AS g_agent,
           count(*)::int AS decided, count(*) FILTER (WHERE breached_at IS NULL)::int AS met, count(*) FILTER (WHERE breached_at IS NOT NULL)::int AS breached
         FROM d ${w} GROUP BY GROUPING SETS ((target), (target, team_id), (target, agent_id))`,
        w.params,
      ),
      this.ds.query(`WITH d AS (${DECIDED}) SELECT * FROM d ${w2} ORDER BY breached_at, id LIMIT ${LIMIT + 1}`, w2.params),
    ]);
    const att = (r: any) => ({ target: r.target, decided: r.decided, met: r.met, breached: r.breached, attainmentPercent: r.decided ? Math.round((r.met * 10000) / r.decided) / 100 : null });
    const totals = new Map(rows.filter((r: any) => r.g_team === 1 && r.g_agent === 1).map((r: any) => [r.target, r]));
    const targets = CLOCK_TARGETS.map((t) => att(totals.get(t) ?? { target: t, decided: 0, met: 0, breached: 0 }));
    const byTeam = rows.filter((r: any) => r.g_team === 0).map((r: any) => ({ ...att(r), teamId: r.team_id }));
    const byAgent = rows.filter((r: any) => r.g_agent === 0).map((r: any) => ({ ...att(r), agentId: r.agent_id }));
    return {
      kind: 'sla',
      targets,
      byTeam,
      byAgent,
      breaches: breaches.slice(0, LIMIT).map((b: any) => ({
        conversationId: b.conversation_id,
        target: b.target,
        teamId: b.team_id,
        agentId: b.agent_id,
        dueAt: iso(b.due_at),
        breachedAt: iso(b.breached_at)!,
        reason: breachReason(b),
      })),
      breachesTruncated: breaches.length > LIMIT,
    };
  }

  private async volume(f: ReportFilter): Promise<ReportResult> {
    const wm = new Where().range('at', f).teams('team_id', f).eq('phone_number_id', f.phoneNumberId);
    const tz = wm.param(f.tz);
    const [msgs, opened, resolved] = await Promise.all([
      this.ds.query(
        // counted per 15 minutes first (every UTC offset and DST change falls on a 15-minute boundary, so each bucket
        // lies in one local hour), then the few thousand buckets are put in the zone: exact, without a zone lookup per row
        `SELECT extract(hour FROM b AT TIME ZONE ${tz})::int AS hour, extract(isodow FROM b AT TIME ZONE ${tz})::int AS dow,
           sum(n_in)::int AS n_in, sum(n_out)::int AS n_out
         FROM (SELECT date_bin('15 minutes', at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS b,
                 count(*) FILTER (WHERE direction = 'in') AS n_in, count(*) FILTER (WHERE direction = 'out') AS n_out
               FROM sla.rpt_message ${wm} GROUP BY 1) x
         GROUP BY 1, 2`,
        wm.params,
      ),
      this.count('opened_at', f),
      this.count('resolved_at', f),
    ]);
    const byHour = Array.from({ length: 24 }, (_, hour) => ({ hour, in: 0, out: 0 }));
    const byWeekday = Array.from({ length: 7 }, (_, i) => ({ isoDay: i + 1, in: 0, out: 0 }));
    let messagesIn = 0;
    let messagesOut = 0;
    for (const r of msgs) {
      byHour[r.hour].in += r.n_in;
      byHour[r.hour].out += r.n_out;
      byWeekday[r.dow - 1].in += r.n_in;
      byWeekday[r.dow - 1].out += r.n_out;
      messagesIn += r.n_in;
      messagesOut += r.n_out;
    }
    return { kind: 'volume', conversationsOpened: opened, conversationsResolved: resolved, messagesIn, messagesOut, byHour, byWeekday };
  }

  private async count(col: string, f: ReportFilter): Promise<number> {
    const w = new Where().range(col, f).teams('team_id', f).eq('phone_number_id', f.phoneNumberId);
    const [r] = await this.ds.query(`SELECT count(*)::int AS n FROM sla.rpt_episode ${w}`, w.params);
    return r.n;
  }

  /** The agents a report covers: the one asked for, else those the gateway named (a team's), else all seen. */
  private async agentSet(f: ReportFilter, agentIds?: string[]): Promise<string[]> {
    if (f.agentId) return [f.agentId];
    if (agentIds) return agentIds;
    const rows = await this.ds.query(
      `SELECT user_id::text AS id FROM sla.rpt_agent_status UNION SELECT sender_id FROM sla.rpt_message WHERE sender_id IS NOT NULL AND direction = 'out'
         AND sender_id ~ '^[0-9a-f-]{36}$'`,
    );
    return rows.map((r: any) => r.id);
  }

  private async agents(f: ReportFilter, agentIds?: string[]): Promise<ReportResult> {
    const ids = await this.agentSet(f, agentIds);
    const now = this.clock.now();
    const p = [ids, f.from, f.to];
    const [online, replies, handoffs, system] = await Promise.all([
      this.ds.query(
        `SELECT user_id, sum(extract(epoch FROM least(coalesce(next_at, $4::timestamptz), $3::timestamptz) - greatest(at, $2::timestamptz))) AS s
         FROM (SELECT user_id, status, at, lead(at) OVER (PARTITION BY user_id ORDER BY at, event_id) AS next_at
               FROM sla.rpt_agent_status WHERE user_id = ANY($1::uuid[]) AND at < $3::timestamptz) x
         WHERE status = 'online' AND least(coalesce(next_at, $4::timestamptz), $3::timestamptz) > greatest(at, $2::timestamptz)
         GROUP BY user_id`,
        [...p, now],
      ),
      this.ds.query(
        `SELECT sender_id, count(*)::int AS replies, count(DISTINCT conversation_id)::int AS handled FROM sla.rpt_message
         WHERE direction = 'out' AND sender_id = ANY($1::text[]) AND at >= $2::timestamptz AND at < $3::timestamptz GROUP BY sender_id`,
        p,
      ),
      this.ds.query(
        `SELECT u AS user_id, count(*) FILTER (WHERE prev_owner_id = u)::int AS given, count(*) FILTER (WHERE owner_id = u)::int AS received
         FROM sla.rpt_assign, unnest($1::uuid[]) u
         WHERE reason = 'handoff' AND at >= $2::timestamptz AND at < $3::timestamptz AND (prev_owner_id = u OR owner_id = u) GROUP BY u`,
        p,
      ),
      this.ds.query(
        `SELECT prev_owner_id AS user_id, count(*)::int AS n FROM sla.rpt_assign
         WHERE actor_type = 'system' AND prev_owner_id = ANY($1::uuid[]) AND owner_id IS DISTINCT FROM prev_owner_id
           AND at >= $2::timestamptz AND at < $3::timestamptz GROUP BY prev_owner_id`,
        p,
      ),
    ]);
    const m = <T>(rows: any[], key: string, f2: (r: any) => T) => new Map<string, T>(rows.map((r) => [r[key], f2(r)]));
    const on = m(online, 'user_id', (r) => Number(r.s));
    const rep = m(replies, 'sender_id', (r) => r);
    const ho = m(handoffs, 'user_id', (r) => r);
    const sys = m(system, 'user_id', (r) => r.n as number);
    return {
      kind: 'agents',
      agents: [...ids].sort().map((agentId) => ({
        agentId,
        onlineSeconds: on.get(agentId) ?? 0,
        conversationsHandled: rep.get(agentId)?.handled ?? 0,
        replies: rep.get(agentId)?.replies ?? 0,
        handoffsGiven: ho.get(agentId)?.given ?? 0,
        handoffsReceived: ho.get(agentId)?.received ?? 0,
        systemReassignments: sys.get(agentId) ?? 0,
      })),
    };
  }

  // ------------------------------------------------------------------ raw rows (CSV export)

  async rows(kind: ReportKind, f: ReportFilter, cursorText: string | null, limit: number, agentIds?: string[]): Promise<ResponseOf<typeof ReportRowsV1>> {
    this.check(kind, f);
    const cursor = decodeCursor(cursorText);
    if (cursorText && !cursor) throw new ValidationError('cursor: not a cursor this export gave out');
    const page = async (columns: string[], sql: string, w: Where, key: (r: any) => [string, string], row: (r: any) => (string | number | null)[]) => {
      const rows = await this.ds.query(`${sql} LIMIT ${w.param(limit)}`, w.params);
      // a page ends early when its JSON would not fit in one bus message (NATS: 1 MiB by default); the cursor then
      // points after the last row sent (5,000 rows of the sla export are ~1.2 MB)
      const out: (string | number | null)[][] = [];
      let bytes = 0;
      for (const r of rows) {
        const cells = row(r);
        bytes += JSON.stringify(cells).length + 1;
        if (bytes > PAGE_BYTES && out.length) return { columns, rows: out, nextCursor: encodeCursor(...key(rows[out.length - 1])) };
        out.push(cells);
      }
      return { columns, rows: out, nextCursor: rows.length === limit ? encodeCursor(...key(rows[rows.length - 1])) : null };
    };
    switch (kind) {
      case 'first-response':
      case 'resolution': {
        const frt = kind === 'first-response';
        const t = frt ? 'first_response_at' : 'resolved_at';
        const w = new Where().range(`e.${t}`, f).teams('e.team_id', f).eq(frt ? 'e.responder_id' : 'e.resolver_id', f.agentId).eq('e.phone_number_id', f.phoneNumberId).after(`e.${t}`, 'e.conversation_id', cursor);
        return page(
          ['conversation_id', 'team_id', 'phone_number_id', 'opened_at', frt ? 'first_response_at' : 'resolved_at', frt ? 'responder_id' : 'resolver_id', 'wall_clock_seconds', 'business_seconds'],
          // the columns the rows need only (turning timestamps into Dates is most of a page's cost)
          `SELECT e.conversation_id, e.team_id, e.phone_number_id, e.opened_at, e.${t}, ${frt ? 'e.responder_id, e.frt_ms, e.frt_business_ms' : 'e.resolver_id, e.resolution_ms, e.resolution_business_ms'},
             e.${t}::text AS cursor_t FROM sla.rpt_episode e ${w} ORDER BY e.${t}, e.conversation_id`,
          w,
          (r) => [r.cursor_t, r.conversation_id],
          (r) =>
            frt
              ? [r.conversation_id, r.team_id, r.phone_number_id, iso(r.opened_at), iso(r.first_response_at), r.responder_id, secs(r.frt_ms), secs(r.frt_business_ms)]
              : [r.conversation_id, r.team_id, r.phone_number_id, iso(r.opened_at), iso(r.resolved_at), r.resolver_id, secs(r.resolution_ms), secs(r.resolution_business_ms)],
        );
      }
      case 'sla': {
        const w = this.slaWhere(f).after('decided_at', 'id', cursor);
        return page(
          ['conversation_id', 'target', 'team_id', 'agent_id', 'phone_number_id', 'started_at', 'due_at', 'met_at', 'breached_at', 'outcome'],
          `WITH d AS (${DECIDED}) SELECT *, decided_at::text AS cursor_t FROM d ${w} ORDER BY decided_at, id`,
          w,
          (r) => [r.cursor_t, r.id],
          (r) => [r.conversation_id, r.target, r.team_id, r.agent_id, r.phone_number_id, iso(r.started_at), iso(r.due_at), iso(r.met_at), iso(r.breached_at), r.breached_at ? 'breached' : 'met'],
        );
      }
      case 'volume': {
        const w = new Where().range('at', f).teams('team_id', f).eq('phone_number_id', f.phoneNumberId).after('at', 'event_id', cursor);
        return page(
          ['event_id', 'conversation_id', 'team_id', 'phone_number_id', 'direction', 'sender_id', 'at'],
          `SELECT *, at::text AS cursor_t FROM sla.rpt_message ${w} ORDER BY at, event_id`,
          w,
          (r) => [r.cursor_t, r.event_id],
          (r) => [r.event_id, r.conversation_id, r.team_id, r.phone_number_id, r.direction, r.sender_id, iso(r.at)],
        );
      }
      case 'agents': {
        const ids = await this.agentSet(f, agentIds);
        const w = new Where();
        const idsP = w.param(ids);
        const to = w.param(f.to);
        const from = w.param(f.from);
        const now = w.param(this.clock.now());
        w.add(`least(coalesce(next_at, ${now}::timestamptz), ${to}::timestamptz) > greatest(at, ${from}::timestamptz)`).after('at', 'event_id', cursor);
        return page(
          ['agent_id', 'status', 'from', 'to', 'seconds_in_range'],
          `SELECT *, at::text AS cursor_t, greatest(at, ${from}::timestamptz) AS s, least(coalesce(next_at, ${now}::timestamptz), ${to}::timestamptz) AS e FROM (
             SELECT user_id, status, at, event_id, lead(at) OVER (PARTITION BY user_id ORDER BY at, event_id) AS next_at FROM sla.rpt_agent_status
             WHERE user_id = ANY(${idsP}::uuid[]) AND at < ${to}::timestamptz) x ${w} ORDER BY at, event_id`,
          w,
          (r) => [r.cursor_t, r.event_id],
          (r) => [r.user_id, r.status, iso(r.s), iso(r.e), (new Date(r.e).getTime() - new Date(r.s).getTime()) / 1000],
        );
      }
      case 'csat': {
        const w = this.csatWhere(f).after('sent_at', 'survey_id', cursor);
        return page(
          ['survey_id', 'conversation_id', 'team_id', 'agent_id', 'phone_number_id', 'sent_at', 'rating', 'rated_at', 'comment'],
          `SELECT *, sent_at::text AS cursor_t FROM sla.rpt_csat ${w} ORDER BY sent_at, survey_id`,
          w,
          (r) => [r.cursor_t, r.survey_id],
          (r) => [r.survey_id, r.conversation_id, r.team_id, r.agent_id, r.phone_number_id, iso(r.sent_at), r.rating === null ? null : Number(r.rating), iso(r.rated_at), r.comment],
        );
      }
    }
  }
}

const pct = (n: number, d: number) => (d ? Math.round((n * 10000) / d) / 100 : null);

/** docs/METRICS.md, csat: rounded to 2 decimals; null when there is nothing to divide by. */
export function csatFigures(g: { sent: number; rated: number; satisfied: number; average: number | null }) {
  return {
    sent: g.sent,
    rated: g.rated,
    responseRatePercent: pct(g.rated, g.sent),
    scorePercent: pct(g.satisfied, g.rated),
    averageRating: g.rated && g.average !== null ? Math.round(Number(g.average) * 100) / 100 : null,
  };
}

/** Why a clock breached, in words: the target, and who had the conversation when it did. */
function breachReason(b: { target: string; target_ms: string | number; agent_id: string | null; met_at: Date | null }): string {
  const minutes = Math.round(Number(b.target_ms) / 60_000);
  const what = b.target === 'firstResponse' ? 'no first reply' : b.target === 'nextResponse' ? 'no reply to the customer' : 'not resolved';
  const who = b.agent_id ? `owned by ${b.agent_id}` : 'unassigned (in the queue)';
  return `${what} within ${minutes} min; ${who} at the breach${b.met_at ? '; met later' : ''}`;
}
