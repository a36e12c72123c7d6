import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AGE_BUCKETS, type DashboardOwnerFigures, type DashboardTeamFigures, type DrillItem, type RequestOf, type ResponseOf, DashboardDrillV1, GetDashboardV1 } from '@app/contracts';
import { Clock } from '../clock/clock';
import { csatFigures } from './reports.service';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/** The age bucket of a conversation opened at `col` (null = unknown: the oldest bucket) at $2 = now. */
const ageOf = (col: string) => `CASE WHEN $2::timestamptz - ${col} < interval '1 hour' THEN 'lt1h'
         WHEN $2::timestamptz - ${col} < interval '4 hours' THEN '1to4h'
         WHEN $2::timestamptz - ${col} < interval '24 hours' THEN '4to24h'
         WHEN $2::timestamptz - ${col} < interval '72 hours' THEN '1to3d'
         ELSE 'gt3d' END`;

/**
 * Every unresolved conversation in the scope with what the dashboard counts (docs/METRICS.md, "Dashboard"):
 * $1 = team scope (null = all), $2 = now. `sla` = breached if a running clock is breached and not met, else
 * warning if one is in warning (kept on the work row by a trigger on sla.clock).
 */
const LIVE = `
  SELECT w.conversation_id, w.team_id, w.owner_id, w.status, w.opened_at, w.queued_since, w.awaiting_since, w.bot_held,
    w.last_inbound_at + interval '24 hours' AS window_closes_at,
    w.sla_state AS sla,
    ${ageOf('w.opened_at')} AS age
  FROM sla.rpt_work w
  WHERE w.status <> 'resolved' AND ($1::uuid[] IS NULL OR w.team_id = ANY($1::uuid[]))`;

/** The counters' stand-in for "no team" / "nobody" (their key columns are NOT NULL). */
export const NIL = '00000000-0000-0000-0000-000000000000';
/** The counters' owner for "a bot holds it, nobody owns it" (migration ReportsBotHeld): in no queue. */
export const BOT = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * The dashboard's counts from the live counters the projection keeps (`rpt_live_count`, `rpt_live_age`; migration
 * ReportsLiveCounters): by team, owner, status and SLA state; ages summed per opening hour, where the (up to 4) hours
 * that contain a bucket boundary (now − 1 h, 4 h, 24 h, 72 h) are counted from their rows, so every bucket is exact.
 * Oldest queued / waiting and the closing windows come from indexes of rpt_work. $1 = team scope, $2 = now.
 */
const COUNTS = `SELECT team_id, owner_id, status, sla_state, n FROM sla.rpt_live_count WHERE n <> 0 AND ($1::uuid[] IS NULL OR team_id = ANY($1::uuid[]))`;
const AGES = `
  WITH edge AS (SELECT DISTINCT date_bin('1 hour', $2::timestamptz - x, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS h
                FROM unnest(ARRAY['1 hour', '4 hours', '24 hours', '72 hours']::interval[]) x)
  SELECT team_id, status, age, sum(n)::int AS n FROM (
    SELECT a.team_id, a.status, ${ageOf(`nullif(a.opened_hour, '-infinity')`)} AS age, a.n FROM sla.rpt_live_age a
    WHERE a.n <> 0 AND a.team_id <> '${NIL}' AND ($1::uuid[] IS NULL OR a.team_id = ANY($1::uuid[])) AND a.opened_hour NOT IN (SELECT h FROM edge)
    UNION ALL
    SELECT w.team_id, w.status, ${ageOf('w.opened_at')}, 1 FROM edge JOIN sla.rpt_work w ON w.opened_at >= edge.h AND w.opened_at < edge.h + interval '1 hour'
    WHERE w.status <> 'resolved' AND w.team_id IS NOT NULL AND ($1::uuid[] IS NULL OR w.team_id = ANY($1::uuid[]))) x
  GROUP BY 1, 2, 3`;
const OLDEST_QUEUED = `
  SELECT t.team_id, (SELECT min(w.queued_since) FROM sla.rpt_work w WHERE w.team_id = t.team_id AND w.owner_id IS NULL AND w.status = 'open' AND NOT w.bot_held) AS oldest
  FROM (SELECT unnest($1::uuid[]) AS team_id UNION SELECT team_id FROM sla.rpt_live_count WHERE $1::uuid[] IS NULL AND team_id <> '${NIL}') t`;
const WINDOWS = `
  SELECT team_id, count(*)::int AS n FROM sla.rpt_work
  WHERE status <> 'resolved' AND last_inbound_at > $2::timestamptz - interval '24 hours' AND last_inbound_at <= $2::timestamptz - interval '22 hours'
    AND team_id IS NOT NULL AND ($1::uuid[] IS NULL OR team_id = ANY($1::uuid[]))
  GROUP BY team_id`;
const OLDEST_WAITING = `
  SELECT u AS owner_id, (SELECT min(w.awaiting_since) FROM sla.rpt_work w WHERE w.owner_id = u AND w.status = 'open' AND ($1::uuid[] IS NULL OR w.team_id = ANY($1::uuid[]))) AS oldest
  FROM (SELECT unnest($2::uuid[]) AS u UNION SELECT owner_id FROM sla.rpt_live_count
        WHERE $2::uuid[] IS NULL AND owner_id NOT IN ('${NIL}', '${BOT}') AND status = 'open' AND ($1::uuid[] IS NULL OR team_id = ANY($1::uuid[]))) x`;

const WINDOW_SOON = `(window_closes_at > $2::timestamptz AND window_closes_at <= $2::timestamptz + interval '2 hours')`;
const QUEUED = `(owner_id IS NULL AND status = 'open' AND team_id IS NOT NULL AND NOT bot_held)`;

/** The live dashboard's figures and the conversations behind each of them, from the reporting projection. */
@Injectable()
export class DashboardService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {}

  async dashboard(r: RequestOf<typeof GetDashboardV1>): Promise<ResponseOf<typeof GetDashboardV1>> {
    const now = this.clock.now();
    const [counts, ages, queued, windows, waiting, replies] = await Promise.all([
      this.ds.query(COUNTS, [r.teamIds]),
      this.ds.query(AGES, [r.teamIds, now]),
      this.ds.query(OLDEST_QUEUED, [r.teamIds]),
      this.ds.query(WINDOWS, [r.teamIds, now]),
      this.ds.query(OLDEST_WAITING, [r.teamIds, r.userIds]),
      this.ds.query(
        `SELECT sender_id, count(*)::int AS n FROM sla.rpt_message
         WHERE direction = 'out' AND ($1::text[] IS NULL AND sender_id ~ '^[0-9a-f-]{36}$' OR sender_id = ANY($1::text[]))
           AND at > $2::timestamptz - interval '1 hour' AND at <= $2::timestamptz
           AND ($3::uuid[] IS NULL OR team_id = ANY($3::uuid[]))
         GROUP BY sender_id`,
        [r.userIds, now, r.teamIds],
      ),
    ]);
    // the figures per team and per owner, named as the columns of the row-by-row query they replace
    const zero = () => ({ queue: 0, with_bot: 0, oldest_queued: null, open: 0, pending: 0, snoozed: 0, at_risk: 0, breached: 0, windows: 0, oldest_waiting: null }) as Record<string, any>;
    const add = (m: Map<string, Record<string, any>>, key: string, field: string, n: number) => {
      const x = m.get(key) ?? m.set(key, zero()).get(key)!;
      x[field] = (x[field] ?? 0) + n;
    };
    const byTeam = new Map<string, Record<string, any>>();
    const byOwner = new Map<string, Record<string, any>>();
    for (const c of counts) {
      const keys: [Map<string, Record<string, any>>, string][] = [];
      if (c.team_id !== NIL) keys.push([byTeam, c.team_id]);
      if (c.owner_id !== NIL && c.owner_id !== BOT) keys.push([byOwner, c.owner_id]);
      for (const [m, key] of keys) {
        add(m, key, c.status, c.n);
        if (c.sla_state === 'warning') add(m, key, 'at_risk', c.n);
        if (c.sla_state === 'breached') add(m, key, 'breached', c.n);
      }
      if (c.team_id !== NIL && c.owner_id === NIL && c.status === 'open') add(byTeam, c.team_id, 'queue', c.n);
      if (c.team_id !== NIL && c.owner_id === BOT) add(byTeam, c.team_id, 'with_bot', c.n);
    }
    for (const a of ages) add(byTeam, a.team_id, `${a.status}_${a.age}`, a.n);
    for (const w of windows) add(byTeam, w.team_id, 'windows', w.n);
    for (const q of queued) if (q.oldest) (byTeam.get(q.team_id) ?? byTeam.set(q.team_id, zero()).get(q.team_id)!).oldest_queued = q.oldest;
    for (const w of waiting) if (w.oldest) (byOwner.get(w.owner_id) ?? byOwner.set(w.owner_id, zero()).get(w.owner_id)!).oldest_waiting = w.oldest;
    const teamIds: string[] = r.teamIds ?? [...byTeam.keys()];
    const ageFigures = (t: any, status: string) => Object.fromEntries(AGE_BUCKETS.map((b) => [b, t?.[`${status}_${b}`] ?? 0])) as DashboardTeamFigures['age']['open'];
    const teamFigures: Omit<DashboardTeamFigures, 'csatLast7Days'>[] = teamIds.sort().map((teamId) => {
      const t = byTeam.get(teamId);
      return {
        teamId,
        queue: { length: t?.queue ?? 0, oldestQueuedAt: iso(t?.oldest_queued ?? null) },
        withBot: t?.with_bot ?? 0,
        byStatus: { open: t?.open ?? 0, pending: t?.pending ?? 0, snoozed: t?.snoozed ?? 0 },
        age: { open: ageFigures(t, 'open'), pending: ageFigures(t, 'pending'), snoozed: ageFigures(t, 'snoozed') },
        sla: { atRisk: t?.at_risk ?? 0, breached: t?.breached ?? 0 },
        windowsClosingIn2h: t?.windows ?? 0,
      };
    });
    const repliesBy = new Map<string, number>(replies.map((x: any) => [x.sender_id, x.n]));
    const ownerFigures: DashboardOwnerFigures[] = (r.userIds ?? [...new Set([...byOwner.keys(), ...repliesBy.keys()])].sort()).map((userId) => {
      const o = byOwner.get(userId);
      return {
        userId,
        owned: { open: o?.open ?? 0, pending: o?.pending ?? 0, snoozed: o?.snoozed ?? 0 },
        oldestWaitingSince: iso(o?.oldest_waiting ?? null),
        sla: { atRisk: o?.at_risk ?? 0, breached: o?.breached ?? 0 },
        repliesLastHour: repliesBy.get(userId) ?? 0,
      };
    });
    return { at: now.toISOString(), teams: await this.withCsat(teamFigures, now), owners: ownerFigures };
  }

  /** Each team's CSAT over the surveys sent in (now − 7 days, now] (docs/METRICS.md). */
  private async withCsat(teams: Omit<DashboardTeamFigures, 'csatLast7Days'>[], now: Date): Promise<DashboardTeamFigures[]> {
    const rows = await this.ds.query(
      `SELECT team_id, count(*)::int AS sent, count(rating)::int AS rated, count(*) FILTER (WHERE rating >= 4)::int AS satisfied
       FROM sla.rpt_csat WHERE team_id = ANY($1::uuid[]) AND sent_at > $2::timestamptz - interval '7 days' AND sent_at <= $2::timestamptz
       GROUP BY team_id`,
      [teams.map((t) => t.teamId), now],
    );
    const by = new Map<string, any>(rows.map((c: any) => [c.team_id, c]));
    return teams.map((t) => {
      const { sent, rated, scorePercent, responseRatePercent } = csatFigures(by.get(t.teamId) ?? { sent: 0, rated: 0, satisfied: 0, average: null });
      return { ...t, csatLast7Days: { sent, rated, scorePercent, responseRatePercent } };
    });
  }

  /** The conversations behind a number: the same definitions, oldest first. */
  async drill(r: RequestOf<typeof DashboardDrillV1>): Promise<ResponseOf<typeof DashboardDrillV1>> {
    const now = this.clock.now();
    const params: unknown[] = [r.teamIds, now];
    const p = (v: unknown) => (params.push(v), `$${params.length}`);
    const where: string[] = [];
    let order = 'opened_at';
    switch (r.metric) {
      case 'queue':
        where.push(QUEUED);
        order = 'queued_since';
        break;
      case 'open':
      case 'pending':
      case 'snoozed':
        where.push(`status = '${r.metric}'`);
        break;
      case 'sla-at-risk':
        where.push(`sla = 'warning'`);
        break;
      case 'sla-breached':
        where.push(`sla = 'breached'`);
        break;
      case 'window-closing':
        where.push(WINDOW_SOON);
        order = 'window_closes_at';
        break;
      case 'waiting':
        where.push(`status = 'open' AND awaiting_since IS NOT NULL`);
        order = 'awaiting_since';
        break;
      case 'replies-last-hour':
        where.push(`EXISTS (SELECT 1 FROM sla.rpt_message m WHERE m.conversation_id = live.conversation_id AND m.direction = 'out' AND m.sender_id IS NOT NULL
          AND m.at > $2::timestamptz - interval '1 hour' AND m.at <= $2::timestamptz ${r.agentId ? `AND m.sender_id = ${p(r.agentId)}::text` : ''})`);
        break;
    }
    if (r.teamId) where.push(`team_id = ${p(r.teamId)}::uuid`);
    if (r.agentId && r.metric !== 'replies-last-hour') where.push(`owner_id = ${p(r.agentId)}::uuid`);
    if (r.ageBucket) where.push(`age = ${p(r.ageBucket)}`);
    const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const base = r.metric === 'replies-last-hour' ? LIVE.replace(`w.status <> 'resolved' AND`, '') : LIVE;
    const rows = await this.ds.query(
      `WITH live AS (${base}) SELECT *, count(*) OVER ()::int AS total FROM live ${cond} ORDER BY ${order} NULLS LAST, conversation_id LIMIT ${p(r.limit)}`,
      params,
    );
    const items: DrillItem[] = rows.map((x: any) => ({
      conversationId: x.conversation_id,
      teamId: x.team_id,
      ownerId: x.owner_id,
      status: x.status,
      openedAt: iso(x.opened_at),
      queuedSince: iso(x.queued_since),
      waitingSince: iso(x.awaiting_since),
      slaState: x.sla,
      windowClosesAt: iso(x.window_closes_at),
    }));
    return { total: rows[0]?.total ?? 0, items };
  }
}
