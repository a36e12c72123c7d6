import { BadRequestException, ForbiddenException, Inject, Injectable, NotFoundException, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  AssignV1,
  DashboardChangedPushV1,
  DashboardDrillV1,
  GetDashboardV1,
  GetReportV1,
  GetWorkV1,
  ListAgentsV1,
  ListWorkV1,
  REPORT_MAX_DAYS,
  ReportRowsV1,
  type ReportFilter,
  type ReportKind,
  type ReportResult,
  type UserRef,
} from '@app/contracts';
import { Bus, streamFeedOf } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';
import { csvRow } from '../contacts/csv';
import { RealtimeHub } from '../realtime/realtime.hub';
import { TeamsService } from '../teams/teams.service';
import { UsersService } from '../users/users.service';
import type { DrillQuery, ReassignAllDto, ReportQuery } from './reports.dto';

const DAY = 86_400_000;
const EXPORT_PAGE = 5_000;
/** The figures of an agent who owns nothing and sent no reply in the scope. */
const NOBODY = { owned: { open: 0, pending: 0, snoozed: 0 }, oldestWaitingSince: null, sla: { atRisk: 0, breached: 0 }, repliesLastHour: 0 };

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The manager view: the live dashboard (routing's agents + the reporting projection in sla), reports and their CSV
 * exports, and bulk reassignment through routing's audited commands. Managers see their teams, admins all, agents
 * nothing (403). The figures are defined in docs/METRICS.md.
 */
@Injectable()
export class ReportsApiService implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopPush?: () => void;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly teams: TeamsService,
    private readonly users: UsersService,
    private readonly hub: RealtimeHub,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // the projection applied an event: tell the managers of those teams (and admins) to refresh, at once
    this.stopPush = await streamFeedOf(this.bus).onBroadcast(DashboardChangedPushV1, (raw) => {
      const p = DashboardChangedPushV1.schema.safeParse(raw);
      if (p.success) this.hub.sendToManagers(p.data.teamIds, { type: 'dashboard.changed', ...p.data });
    });
  }

  onApplicationShutdown(): void {
    this.stopPush?.();
  }

  /** The teams the caller may look at: admins (and API keys) every team, managers theirs; agents and viewers none. */
  scope(p: Principal, teamId?: string): string[] | null {
    if (p.role !== 'admin' && p.role !== 'manager') throw new ForbiddenException('the dashboard and reports are for managers and admins');
    if (p.role === 'admin') return teamId ? [teamId] : null;
    if (teamId && !p.teamIds.includes(teamId)) throw new ForbiddenException(`team ${teamId} is not one of your teams`);
    return teamId ? [teamId] : p.teamIds;
  }

  async dashboard(p: Principal, teamId?: string) {
    const scope = this.scope(p, teamId);
    if (teamId) await this.teams.get(teamId);
    // routing's agents and sla's figures at the same time: sla answers for every owner and replier in the scope
    const teamsP = this.teams.list();
    const figuresP = teamsP.then((all) => this.bus.request(GetDashboardV1, { teamIds: scope ?? all.map((t) => t.id), userIds: null }));
    const [agents, allTeams, figures] = await Promise.all([this.bus.request(ListAgentsV1, { actor: actorOf(p), teamId }), teamsP, figuresP]);
    const names = new Map(allTeams.map((t) => [t.id, t.name]));
    const owners = new Map(figures.owners.map((o) => [o.userId, o]));
    return {
      at: figures.at,
      teams: figures.teams.map((t) => ({ ...t, name: names.get(t.teamId) ?? null })),
      agents: agents.items.map((a) => {
        const o = owners.get(a.userId) ?? NOBODY;
        return {
          userId: a.userId,
          name: a.name,
          status: a.status,
          statusSince: a.statusSince,
          teamIds: a.teamIds,
          owned: o.owned,
          capacity: { used: a.openCount, max: a.maxOpen },
          oldestWaitingSince: o.oldestWaitingSince,
          sla: o.sla,
          repliesLastHour: o.repliesLastHour,
        };
      }),
    };
  }

  async drill(p: Principal, q: DrillQuery) {
    const scope = this.scope(p, q.teamId);
    const r = await this.bus.request(DashboardDrillV1, { teamIds: scope, metric: q.metric, teamId: q.teamId, agentId: q.agentId, ageBucket: q.ageBucket, limit: q.limit ?? 100 });
    return { metric: q.metric, ...r };
  }

  /** Checks the range, the zone and the scope; names the agents a team-scoped agents report covers. */
  async filter(p: Principal, kind: ReportKind, q: ReportQuery): Promise<{ filter: ReportFilter; agentIds?: string[] }> {
    const teamIds = this.scope(p, q.teamId);
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    if (!(to > from)) throw new BadRequestException('to must be after from');
    if (to - from > REPORT_MAX_DAYS * DAY) throw new BadRequestException(`the range may span at most ${REPORT_MAX_DAYS} days`);
    const tz = q.tz ?? 'UTC';
    if (!validTimeZone(tz)) throw new BadRequestException(`tz: unknown time zone "${tz}" (use an IANA name like Europe/Berlin)`);
    if (kind === 'volume' && q.agentId) throw new BadRequestException('agentId does not apply to the volume report (see the agents report)');
    if (q.teamId) await this.teams.get(q.teamId);
    const filter: ReportFilter = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), tz, teamIds, teamId: q.teamId, agentId: q.agentId, phoneNumberId: q.phoneNumberId };
    let agentIds: string[] | undefined;
    if (kind === 'agents') {
      // the agents a report covers are the agents routing lists for the caller (their teams; admins: everyone)
      const visible = (await this.bus.request(ListAgentsV1, { actor: actorOf(p), teamId: q.teamId })).items.map((a) => a.userId);
      if (q.agentId && p.role !== 'admin' && !visible.includes(q.agentId)) throw new ForbiddenException(`agent ${q.agentId} is not in your teams`);
      agentIds = q.agentId ? [q.agentId] : visible;
    }
    return { filter, agentIds };
  }

  async report(p: Principal, kind: ReportKind, q: ReportQuery): Promise<ReportResult> {
    const { filter, agentIds } = await this.filter(p, kind, q);
    return this.bus.request(GetReportV1, { kind, filter, agentIds });
  }

  async rawPage(p: Principal, kind: ReportKind, q: ReportQuery, cursor: string | null, limit: number) {
    const { filter, agentIds } = await this.filter(p, kind, q);
    return this.bus.request(ReportRowsV1, { kind, filter, agentIds, cursor, limit });
  }

  /** The summary as CSV: one table per report (docs/METRICS.md lists the columns). */
  async *reportCsv(p: Principal, kind: ReportKind, q: ReportQuery): AsyncGenerator<string> {
    const r = await this.report(p, kind, q);
    const out: string[] = [];
    switch (r.kind) {
      case 'first-response':
      case 'resolution':
        out.push(csvRow(['basis', 'count', 'median_seconds', 'p90_seconds', 'average_seconds']));
        for (const [basis, d] of [['wall_clock', r.wallClock], ['business_hours', r.businessHours]] as const)
          out.push(csvRow([basis, d.count, d.medianSeconds, d.p90Seconds, d.averageSeconds]));
        break;
      case 'sla':
        out.push(csvRow(['scope', 'id', 'target', 'decided', 'met', 'breached', 'attainment_percent']));
        for (const t of r.targets) out.push(csvRow(['all', '', t.target, t.decided, t.met, t.breached, t.attainmentPercent]));
        for (const t of r.byTeam) out.push(csvRow(['team', t.teamId, t.target, t.decided, t.met, t.breached, t.attainmentPercent]));
        for (const t of r.byAgent) out.push(csvRow(['agent', t.agentId, t.target, t.decided, t.met, t.breached, t.attainmentPercent]));
        break;
      case 'volume':
        out.push(csvRow(['bucket', 'key', 'messages_in', 'messages_out', 'conversations_opened', 'conversations_resolved']));
        out.push(csvRow(['total', '', r.messagesIn, r.messagesOut, r.conversationsOpened, r.conversationsResolved]));
        for (const h of r.byHour) out.push(csvRow(['hour', h.hour, h.in, h.out, '', '']));
        for (const d of r.byWeekday) out.push(csvRow(['iso_day', d.isoDay, d.in, d.out, '', '']));
        break;
      case 'agents':
        out.push(csvRow(['agent_id', 'online_seconds', 'conversations_handled', 'replies', 'handoffs_given', 'handoffs_received', 'system_reassignments']));
        for (const a of r.agents) out.push(csvRow([a.agentId, a.onlineSeconds, a.conversationsHandled, a.replies, a.handoffsGiven, a.handoffsReceived, a.systemReassignments]));
        break;
      case 'csat':
        out.push(csvRow(['scope', 'id', 'sent', 'rated', 'response_rate_percent', 'score_percent', 'average_rating']));
        out.push(csvRow(['all', '', r.sent, r.rated, r.responseRatePercent, r.scorePercent, r.averageRating]));
        for (const t of r.byTeam) out.push(csvRow(['team', t.teamId, t.sent, t.rated, t.responseRatePercent, t.scorePercent, t.averageRating]));
        for (const a of r.byAgent) out.push(csvRow(['agent', a.agentId, a.sent, a.rated, a.responseRatePercent, a.scorePercent, a.averageRating]));
        for (const d of r.distribution) out.push(csvRow(['rating', d.rating, d.count, '', '', '', '']));
        break;
    }
    yield out[0];
    yield out.slice(1).join('');
  }

  /** Every raw row, page by page through the cursor (flat memory: one page at a time). */
  async *rawCsv(p: Principal, kind: ReportKind, q: ReportQuery): AsyncGenerator<string> {
    const { filter, agentIds } = await this.filter(p, kind, q);
    const fetch = (cursor: string | null) => this.bus.request(ReportRowsV1, { kind, filter, agentIds, cursor, limit: EXPORT_PAGE });
    // the next page is asked for while this one is written (at most two pages in memory)
    let next: ReturnType<typeof fetch> | null = fetch(null);
    let first = true;
    while (next) {
      const page: Awaited<ReturnType<typeof fetch>> = await next;
      next = page.nextCursor ? fetch(page.nextCursor) : null;
      next?.catch(() => undefined); // a failure surfaces when awaited (above); never as an unhandled rejection meanwhile
      if (first) yield csvRow(page.columns);
      first = false;
      yield page.rows.map((r) => csvRow(r)).join('');
    }
  }

  /**
   * Moves every unresolved conversation an (absent) agent owns, each through routing's audited assign command, and
   * reports each one's outcome. A conversation changed meanwhile (version conflict) is retried once with its state now.
   */
  async reassignAll(p: Principal, agentId: string, dto: ReassignAllDto) {
    this.scope(p);
    if (!!dto.toTeamQueue === !!dto.toUserId) throw new BadRequestException('give exactly one of toTeamQueue: true or toUserId');
    const agent = await this.users.get(agentId); // 404 for an unknown user
    if (p.role !== 'admin' && !agent.teamIds.some((t) => p.teamIds.includes(t))) throw new ForbiddenException(`user ${agentId} is not in your teams`);
    let to: UserRef | null = null;
    if (dto.toUserId) {
      const u = await this.users.get(dto.toUserId).catch((err) => {
        if (err instanceof NotFoundException) throw new BadRequestException(`toUserId: user ${dto.toUserId} does not exist`);
        throw err;
      });
      if (u.disabled || u.role === 'viewer') throw new BadRequestException(`toUserId: user ${u.id} cannot own conversations`);
      to = { id: u.id, role: u.role, teamIds: u.teamIds };
    }
    const actor = actorOf(p);
    const ids: { id: string; version: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof this.bus.request<typeof ListWorkV1>>> = await this.bus.request(ListWorkV1, { actor, view: 'all', assigneeId: agentId, cursor, limit: 200 });
      for (const w of page.items) if (w.status !== 'resolved' && w.ownerId === agentId) ids.push({ id: w.conversationId, version: w.version });
      cursor = page.nextCursor;
    } while (cursor);
    const items: { conversationId: string; ok: boolean; error?: string; ownerId?: string | null }[] = [];
    for (const c of ids) {
      const assign = (version: number) => this.bus.request(AssignV1, { actor, conversationId: c.id, version, assignee: to });
      try {
        const after = await assign(c.version).catch(async (err) => {
          if ((err as { code?: string }).code !== 'CONFLICT') throw err;
          const now = await this.bus.request(GetWorkV1, { actor, conversationId: c.id });
          if (now.ownerId !== agentId || now.status === 'resolved') throw Object.assign(new Error('no longer owned by the agent'), { code: 'CHANGED' });
          return assign(now.version);
        });
        items.push({ conversationId: c.id, ok: true, ownerId: after.ownerId });
      } catch (err) {
        const e = err as { code?: string; message: string };
        items.push({ conversationId: c.id, ok: false, error: `${e.code ?? 'ERROR'}: ${e.message}` });
      }
    }
    return { moved: items.filter((i) => i.ok).length, failed: items.filter((i) => !i.ok).length, items };
  }
}
