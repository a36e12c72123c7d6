import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AGE_BUCKETS, type DashboardOwnerFigures, type DashboardTeamFigures, type DrillItem, type RequestOf, type ResponseOf, DashboardDrillV1, GetDashboardV1 } from '@app/contracts';
import { Clock } from '../clock/clock';
import { csatFigures } from './reports.service';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/**
 * Every unresolved conversation in the scope with what the dashboard counts (docs/METRICS.md, "Dashboard"):
 * $1 = team scope (null = all), $2 = now. `sla` = breached if a running clock is breached and not met, else
 * warning if one is in warning (kept on the work row by a trigger on sla.clock).
 */
const LIVE = `
  SELECT w.conversation_id, w.team_id, w.owner_id, w.status, w.opened_at, w.queued_since, w.awaiting_since,
    w.last_inbound_at + interval '24 hours' AS window_closes_at,
    w.sla_state AS sla,
    CASE WHEN $2::timestamptz - w.opened_at < interval '1 hour' THEN 'lt1h'
         WHEN $2::timestamptz - w.opened_at < interval '4 hours' THEN '1to4h'
         WHEN $2::timestamptz - w.opened_at < interval '24 hours' THEN '4to24h'
         WHEN $2::timestamptz - w.opened_at < interval '72 hours' THEN '1to3d'
         ELSE 'gt3d' END AS age
  FROM sla.rpt_work w
  WHERE w.status <> 'resolved' AND ($1::uuid[] IS NULL OR w.team_id = ANY($1::uuid[]))`;

const WINDOW_SOON = `(window_closes_at > $2::timestamptz AND window_closes_at <= $2::timestamptz + interval '2 hours')`;
const QUEUED = `(owner_id IS NULL AND status = 'open' AND team_id IS NOT NULL)`;

/** The live dashboard's figures and the conversations behind each of them, from the reporting projection. */
@Injectable()
export class DashboardService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {}

  async dashboard(r: RequestOf<typeof GetDashboardV1>): Promise<ResponseOf<typeof GetDashboardV1>> {
    const now = this.clock.now();
    const ageCols = (status: string) => AGE_BUCKETS.map((b) => `count(*) FILTER (WHERE status = '${status}' AND age = '${b}')::int AS "${status}_${b}"`).join(', ');
    const [grouped, replies] = await Promise.all([
      this.ds.query(
        `WITH live AS (${LIVE}) SELECT team_id, owner_id, GROUPING(team_id) AS by_owner,
           count(*) FILTER (WHERE ${QUEUED})::int AS queue, min(queued_since) FILTER (WHERE ${QUEUED}) AS oldest_queued,
           count(*) FILTER (WHERE status = 'open')::int AS open, count(*) FILTER (WHERE status = 'pending')::int AS pending,
           count(*) FILTER (WHERE status = 'snoozed')::int AS snoozed,
           ${ageCols('open')}, ${ageCols('pending')}, ${ageCols('snoozed')},
           count(*) FILTER (WHERE sla = 'warning')::int AS at_risk, count(*) FILTER (WHERE sla = 'breached')::int AS breached,
           count(*) FILTER (WHERE ${WINDOW_SOON})::int AS windows,
           min(awaiting_since) FILTER (WHERE status = 'open') AS oldest_waiting
         FROM live GROUP BY GROUPING SETS ((team_id), (owner_id))`,
        [r.teamIds, now],
      ),
      this.ds.query(
        `SELECT sender_id, count(*)::int AS n FROM sla.rpt_message
         WHERE direction = 'out' AND sender_id = ANY($1::text[]) AND at > $2::timestamptz - interval '1 hour' AND at <= $2::timestamptz
           AND ($3::uuid[] IS NULL OR team_id = ANY($3::uuid[]))
         GROUP BY sender_id`,
        [r.userIds, now, r.teamIds],
      ),
    ]);
    const teams = grouped.filter((g: any) => g.by_owner === 0 && g.team_id);
    const wanted = new Set(r.userIds);
    const owners = grouped.filter((g: any) => g.by_owner === 1 && g.owner_id && wanted.has(g.owner_id));
    const byTeam = new Map<string, any>(teams.map((t: any) => [t.team_id, t]));
    const teamIds: string[] = r.teamIds ?? [...byTeam.keys()];
    const ages = (t: any, status: string) => Object.fromEntries(AGE_BUCKETS.map((b) => [b, t ? t[`${status}_${b}`] : 0])) as DashboardTeamFigures['age']['open'];
    const teamFigures: Omit<DashboardTeamFigures, 'csatLast7Days'>[] = teamIds.sort().map((teamId) => {
      const t = byTeam.get(teamId);
      return {
        teamId,
        queue: { length: t?.queue ?? 0, oldestQueuedAt: iso(t?.oldest_queued ?? null) },
        byStatus: { open: t?.open ?? 0, pending: t?.pending ?? 0, snoozed: t?.snoozed ?? 0 },
        age: { open: ages(t, 'open'), pending: ages(t, 'pending'), snoozed: ages(t, 'snoozed') },
        sla: { atRisk: t?.at_risk ?? 0, breached: t?.breached ?? 0 },
        windowsClosingIn2h: t?.windows ?? 0,
      };
    });
    const byOwner = new Map<string, any>(owners.map((o: any) => [o.owner_id, o]));
    const repliesBy = new Map<string, number>(replies.map((x: any) => [x.sender_id, x.n]));
    const ownerFigures: DashboardOwnerFigures[] = r.userIds.map((userId) => {
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
