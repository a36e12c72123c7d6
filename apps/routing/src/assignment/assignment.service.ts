import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter, register } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import {
  BusinessHoursStateV1,
  NoticeRequestedV1,
  type NoticeKind,
  type RouteExplanation,
  type Strategy,
  type TeamRouting,
  type WorkState,
} from '@app/contracts';
import { Bus } from '@app/messaging';
import { OutboxWriter } from '@app/persistence';
import { recordChange, SYSTEM_ACTOR } from '../work/record-change';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { BotRouteRepository, type BotRef } from '../work/bot-route.repository';
import { AgentRepository, RuleRepository, TeamRoutingRepository } from './assignment.repository';
import { RoutingClock } from './clock';
import { firstMatch, RuleSkipped, type BusinessHoursAsk, type RouteContext, type StoredRule } from './rules';

const counter = (name: string, help: string, labelNames: string[]) =>
  (register.getSingleMetric(name) as Counter<string>) ?? new Counter({ name, help, labelNames });
const decisions = counter('switchboard_routing_decisions_total', 'Routing decisions by outcome and strategy', ['outcome', 'strategy']);
const ruleSkips = counter('switchboard_routing_rules_skipped_total', 'Rules skipped because they failed at run time', ['reason']);

/** What the rules decided for a new conversation (before it is stored). */
export interface Plan {
  rule: { id: string; name: string } | null;
  skipped: RouteExplanation['skipped'];
  teamId?: string;
  priority?: WorkState['priority'];
  labels?: string[];
  assigneeId?: string;
  skills?: string[];
}

/** Who the strategy picked, and how (for the audit entry). */
interface Pick {
  agentId: string;
  how: string;
}

/** What one (batch) transaction reads once and reuses: team settings by team id, a number's bot by number id. */
export interface RouteMemo {
  teams: Map<string, TeamRouting>;
  bots: Map<string, BotRef | null>;
}

/** The remembered value, else read (and remember it when there is a memo). */
async function once<K, V>(memo: Map<K, V> | undefined, key: K, read: () => Promise<V>): Promise<V> {
  if (memo?.has(key)) return memo.get(key) as V;
  const value = await read();
  memo?.set(key, value);
  return value;
}

/** Why a routing step happened, carried into its audit entry. */
export type RouteTrigger = 'opened' | 'reopened' | 'queue' | 'reassign' | 'requeue';

/**
 * Decides who owns a conversation. Rules (ordered, first match) choose team, priority, labels, skills or a person;
 * the team's strategy picks an online agent under capacity. The pick locks agent rows `FOR UPDATE SKIP LOCKED`
 * inside the transaction that holds the work row, re-counts the agent's load after the lock (where a cap applies),
 * and writes owner, audit entry (rule + strategy + whom) and events together — so replicas and manual claims never
 * double-assign.
 * Lock order everywhere: work row, then team row (only with a team cap), then agent row.
 */
@Injectable()
export class AssignmentService {
  private readonly log = new Logger('Assignment');

  constructor(
    private readonly ds: DataSource,
    @Inject(Bus) private readonly bus: Bus,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly outbox: OutboxWriter,
    private readonly agents: AgentRepository,
    private readonly teams: TeamRoutingRepository,
    private readonly rules: RuleRepository,
    private readonly clock: RoutingClock,
    private readonly bots: BotRouteRepository,
  ) {}

  /** Evaluates the rules for a conversation (outside any transaction: a business-hours rule asks sla). */
  async plan(ctx: RouteContext, at: Date): Promise<Plan> {
    return (await this.planMany([ctx], at))[0];
  }

  /**
   * `plan` for several conversations at the same moment: the rules are read once, and each business-hours
   * question is asked of sla once for all of them (same calendar, same instant, same answer).
   */
  async planMany(ctxs: RouteContext[], at: Date): Promise<Plan[]> {
    const rules = await this.rules.all(this.ds.manager, true);
    if (!rules.length) return ctxs.map(() => ({ rule: null, skipped: [] }));
    const asked = new Map<string, Promise<boolean>>();
    const hours = (q: { businessHoursId?: string; teamId?: string }) => {
      const key = `${q.businessHoursId ?? ''}/${q.teamId ?? ''}`;
      if (!asked.has(key)) asked.set(key, this.businessHoursOpen(q, at));
      return asked.get(key)!;
    };
    const plans: Plan[] = [];
    for (const ctx of ctxs) plans.push(await this.planOne(rules, ctx, at, hours));
    return plans;
  }

  private async planOne(rules: StoredRule[], ctx: RouteContext, at: Date, hours: BusinessHoursAsk): Promise<Plan> {
    const outcome = await firstMatch(rules, ctx, at, hours);
    for (const s of outcome.skipped) {
      this.log.warn(`rule "${s.name}" (${s.ruleId}) skipped: ${s.reason}`);
      ruleSkips.inc({ reason: s.reason.startsWith('business hours') ? 'business_hours' : 'error' });
      await this.rules.recordError(this.ds.manager, s.ruleId, s.reason).catch(() => undefined);
    }
    const r = outcome.rule;
    if (!r) return { rule: null, skipped: outcome.skipped };
    return {
      rule: { id: r.id, name: r.name },
      skipped: outcome.skipped,
      teamId: r.actions.teamId,
      priority: r.actions.priority,
      labels: r.actions.labels,
      assigneeId: r.actions.assigneeId,
      skills: r.actions.skills,
    };
  }

  private async businessHoursOpen(q: { businessHoursId?: string; teamId?: string }, at: Date): Promise<boolean> {
    try {
      const res = await this.bus.request(BusinessHoursStateV1, { ...q, at: at.toISOString() });
      return res.open;
    } catch (err) {
      throw new RuleSkipped(`business hours unknown (sla did not answer: ${(err as Error).message})`);
    }
  }

  /**
   * In the caller's transaction (the work row locked): give the conversation to whom the rule or the team's
   * strategy picks, or leave it in the team's queue. Returns the state after and the explanation.
   */
  async route(
    em: EntityManager,
    w: WorkState,
    o: {
      plan?: Plan | null;
      trigger: RouteTrigger;
      exclude?: string[];
      skills?: string[];
      auditQueued?: boolean;
      /** What this transaction has read already (a batch reads each team's settings and number's bot once). */
      memo?: RouteMemo;
    },
  ): Promise<{ state: WorkState; explanation: RouteExplanation }> {
    const plan = o.plan ?? null;
    const skills = o.skills ?? (await this.skillsOf(em, w.conversationId));
    // bot handover: a number whose conversations go to a bot first — the bot holds it and nobody is picked
    // (a rule naming a person still wins)
    if ((o.trigger === 'opened' || o.trigger === 'reopened') && !w.ownerId && !w.bot && !plan?.assigneeId) {
      const bot = await once(o.memo?.bots, w.phoneNumberId, () => this.bots.forNumber(em, w.phoneNumberId));
      // a bot whose key was revoked holds nothing (checked under the bot's lock: a revoke cannot slip in between)
      if (bot && !(await this.bots.isRevoked(em, bot.id))) return this.holdForBot(em, w, bot, plan, skills);
    }
    const teamId = w.teamId;
    const settings = teamId ? await once(o.memo?.teams, teamId, () => this.teams.get(em, teamId)) : null;
    const strategy: Strategy = settings?.strategy ?? 'manual';
    const pick = settings ? await this.pick(em, w, settings, plan?.assigneeId, skills, o.exclude ?? []) : null;
    const explanation = explain(plan, w, strategy, skills, pick, settings === null, o.trigger);
    decisions.inc({ outcome: pick ? 'assigned' : 'queued', strategy });
    if (!pick) {
      // a manual team (or no team) queues by definition: the opened entry says so; a strategy that found nobody is a decision
      const decided = strategy !== 'manual' || !!plan?.assigneeId;
      if (o.auditQueued !== false && decided) {
        await this.audit.append(em, {
          conversationId: w.conversationId,
          teamId: w.teamId,
          actor: SYSTEM_ACTOR,
          action: 'conversation.queued',
          before: null,
          after: { teamId: w.teamId, ownerId: null, version: w.version, routing: explanation },
          note: explanation.reason,
        });
      }
      return { state: w, explanation };
    }
    const after = await this.work.update(em, w.conversationId, { ownerId: pick.agentId, assignedAt: this.clock.now() });
    await this.agents.markAssigned(em, pick.agentId);
    await this.recordRouted(em, w, after, explanation);
    return { state: after, explanation };
  }

  /** The owner is set: the audit entry (rule + strategy + whom), the events and the new owner's notice. */
  private async recordRouted(em: EntityManager, before: WorkState, after: WorkState, explanation: RouteExplanation): Promise<void> {
    await recordChange(this.audit, this.outbox, em, {
      actor: SYSTEM_ACTOR,
      action: 'conversation.routed',
      before,
      after,
      note: explanation.reason,
      reason: 'route',
      why: { routing: explanation },
    });
    await this.notice(em, 'assigned', { userIds: [after.ownerId!] }, after, 'A conversation was assigned to you', explanation.reason);
  }

  /**
   * Before a batch routes anything (its work rows locked, no agent row yet): reads the settings of every team its
   * conversations may be routed in (one statement, kept in the memo) and locks the rows of those with a team total,
   * in team id order — so routing the items one after another (some lock agents, then another's team total needs its
   * team row) keeps the lock order work, team, agent, and a claim (team, then agent) cannot deadlock with the batch.
   * The memo's settings are then the ones `route` and `routeOpened` use: a team locked here is the only one they lock.
   */
  async lockTeams(em: EntityManager, teamIds: (string | null)[], memo: RouteMemo): Promise<void> {
    const ids = [...new Set(teamIds.filter((id): id is string => !!id))].sort();
    if (!ids.length) return;
    const read = await this.teams.getMany(em, ids);
    const capped = ids.filter((id) => read.get(id)!.maxOpenTeam !== null);
    // re-read under the lock (a total removed meanwhile: no longer locked by `pick`, which only locks with a total)
    if (capped.length) for (const [id, s] of await this.teams.getMany(em, capped, true)) read.set(id, s);
    for (const [id, s] of read) memo.teams.set(id, s);
  }

  /**
   * `route` for the new conversations of one batch (trigger `opened`), each item's entries written in its own async
   * context (`within`). Those whose team assigns by round robin or least loaded (no rule naming a person, no bot on
   * the number, no team total) are picked together per team and skills, in arrival order: one statement locks up to
   * as many of the team's next agents as there are conversations (`FOR UPDATE SKIP LOCKED`), one re-counts their load
   * after the lock (only when a cap applies), and each pick is what one-by-one routing would choose among them (round
   * robin: the first under the cap, who then goes last; least loaded: the fewest open counting the batch's picks, ties
   * to the longest since the last assignment; nobody at the cap); one statement sets the owners (version checked) and
   * marks the agents. The rest, and any conversation the locked agents cannot take, go through `route` one at a time
   * (other agents, or the queue). The caller has called `lockTeams` with the items' teams (and the memo) first.
   * Returns the states after, in the items' order.
   */
  async routeOpened(
    em: EntityManager,
    items: { w: WorkState; plan: Plan | null; within: <R>(fn: () => R) => R }[],
    memo: RouteMemo,
  ): Promise<WorkState[]> {
    const out: WorkState[] = items.map((i) => i.w);
    const alone: number[] = [];
    const groups = new Map<string, { settings: TeamRouting; skills: string[]; members: number[] }>();
    for (let i = 0; i < items.length; i++) {
      const { w, plan } = items[i];
      const skills = plan?.skills ?? [];
      const fresh = !w.ownerId && !w.bot && !plan?.assigneeId;
      const bot = fresh ? await once(memo.bots, w.phoneNumberId, () => this.bots.forNumber(em, w.phoneNumberId)) : null;
      const teamId = w.teamId;
      const settings = teamId ? await once(memo.teams, teamId, () => this.teams.get(em, teamId)) : null;
      if (!fresh || bot || !settings || settings.maxOpenTeam !== null || (settings.strategy !== 'round_robin' && settings.strategy !== 'least_loaded')) {
        alone.push(i);
        continue;
      }
      const key = `${settings.teamId} ${[...skills].sort().join(' ')}`;
      const g = groups.get(key) ?? { settings, skills, members: [] };
      g.members.push(i);
      groups.set(key, g);
    }
    for (const { settings, skills, members } of groups.values()) {
      const strategy = settings.strategy as 'round_robin' | 'least_loaded';
      const locked = await this.agents.candidatesWithLoad(em, { teamId: settings.teamId, strategy, skills, teamCap: settings.maxOpenPerAgent, limit: members.length });
      // after the lock, the load is counted again (a statement that sees every commit before it)
      const capped = locked.filter((a) => a.cap !== null).map((a) => a.userId);
      const counted = capped.length ? await this.agents.openCounts(em, capped) : null;
      const rotation = locked.map((a) => ({ userId: a.userId, cap: a.cap, load: counted?.get(a.userId) ?? a.open }));
      const picks: { i: number; agentId: string }[] = [];
      for (const i of members) {
        let k = -1;
        for (let j = 0; j < rotation.length; j++) {
          const a = rotation[j];
          if (a.cap !== null && a.load >= a.cap) continue;
          if (k < 0 || a.load < rotation[k].load) k = j;
          if (strategy === 'round_robin') break;
        }
        if (k < 0) {
          alone.push(i);
          continue;
        }
        const [a] = rotation.splice(k, 1);
        a.load++;
        rotation.push(a);
        picks.push({ i, agentId: a.userId });
      }
      const assigned = await this.work.assignMany(
        em,
        picks.map((p) => ({ conversationId: items[p.i].w.conversationId, ownerId: p.agentId, version: items[p.i].w.version })),
        this.clock.now(),
      );
      const how = strategyHow(strategy);
      for (const { i, agentId } of picks) {
        const { w, plan, within } = items[i];
        const after = assigned.get(w.conversationId);
        if (!after) {
          alone.push(i); // the row moved (it is locked by this transaction, so it cannot): decided alone
          continue;
        }
        const explanation = explain(plan, w, strategy, skills, { agentId, how }, false, 'opened');
        decisions.inc({ outcome: 'assigned', strategy });
        await within(() => this.recordRouted(em, w, after, explanation));
        out[i] = after;
      }
    }
    for (const i of alone.sort((a, b) => a - b)) {
      const { w, plan, within } = items[i];
      out[i] = (await within(() => this.route(em, w, { plan, trigger: 'opened', skills: plan?.skills ?? [], memo }))).state;
    }
    return out;
  }

  /** The number's bot holds the conversation: one audit entry (`conversation.bot-held` by routing, naming the bot). */
  private async holdForBot(em: EntityManager, w: WorkState, bot: BotRef, plan: Plan | null, skills: string[]) {
    const explanation: RouteExplanation = {
      rule: plan?.rule ?? null,
      skipped: plan?.skipped ?? [],
      teamId: w.teamId,
      priority: plan?.priority ?? null,
      labels: plan?.labels ?? [],
      skills,
      strategy: 'manual',
      agentId: null,
      reason: `number ${w.phoneNumberId} goes to bot ${bot.name ?? bot.id} first; it hands over to a team when a person is needed`,
    };
    decisions.inc({ outcome: 'bot', strategy: 'bot' });
    const after = await this.work.update(em, w.conversationId, { bot });
    await recordChange(this.audit, this.outbox, em, {
      actor: SYSTEM_ACTOR,
      action: 'conversation.bot-held',
      before: w,
      after,
      note: explanation.reason,
      why: { routing: explanation },
    });
    return { state: after, explanation };
  }

  /**
   * Whom the rule's person or the team's strategy gives it to: only online, active agents of the team with the
   * skills, under capacity (the agent's own maximum and the team's per-agent maximum; the team's total).
   */
  private async pick(em: EntityManager, w: WorkState, s: TeamRouting, assigneeId: string | undefined, skills: string[], exclude: string[]): Promise<Pick | null> {
    if (s.maxOpenTeam !== null) {
      await this.teams.get(em, s.teamId, true); // the team's total is checked under the team row's lock
      if ((await this.agents.teamOpenCount(em, s.teamId)) >= s.maxOpenTeam) return null;
    }
    const base = { teamId: s.teamId, skills, exclude, teamCap: s.maxOpenPerAgent };
    if (assigneeId) {
      const got = await this.firstUnderCap(em, await this.agents.candidates(em, { ...base, strategy: 'round_robin', only: assigneeId, limit: 1 }));
      return got ? { agentId: got, how: 'the rule names this person' } : null;
    }
    if (s.strategy === 'manual') return null;
    if (s.strategy === 'sticky') {
      const since = new Date(this.clock.now().getTime() - s.stickyDays * 86_400_000);
      const prev = await this.agents.previousOwner(em, w.contactId, w.conversationId, since);
      if (prev && !exclude.includes(prev)) {
        const got = await this.firstUnderCap(em, await this.agents.candidates(em, { ...base, strategy: 'round_robin', only: prev, limit: 1 }));
        if (got) return { agentId: got, how: `sticky: the customer's previous owner (within ${s.stickyDays} days)` };
      }
    }
    const strategy = s.strategy === 'least_loaded' ? 'least_loaded' : 'round_robin';
    const got = await this.firstUnderCap(em, await this.agents.candidates(em, { ...base, strategy, limit: 3 }));
    if (!got) return null;
    return { agentId: got, how: s.strategy === 'sticky' ? 'sticky: no previous owner available, round robin' : strategyHow(strategy) };
  }

  /** What `route` would decide now, without changing anything (the dry run). */
  async preview(em: EntityManager, w: WorkState, plan: Plan, skills: string[], trigger: RouteTrigger): Promise<RouteExplanation> {
    const settings = w.teamId ? await this.teams.get(em, w.teamId) : null;
    const pick = settings ? await this.pick(em, w, settings, plan.assigneeId, skills, []) : null;
    return explain(plan, w, settings?.strategy ?? 'manual', skills, pick, settings === null, trigger);
  }

  /** After the lock, the load is counted again (a statement that sees every commit before it). */
  private async firstUnderCap(em: EntityManager, candidates: { userId: string; cap: number | null }[]): Promise<string | null> {
    for (const c of candidates) {
      if (c.cap === null || (await this.agents.openCount(em, c.userId)) < c.cap) return c.userId;
    }
    return null;
  }

  async skillsOf(em: EntityManager, conversationId: string): Promise<string[]> {
    const rows = await em.query(`SELECT required_skills FROM routing.conversation_work WHERE conversation_id = $1`, [conversationId]);
    return rows[0]?.required_skills ?? [];
  }

  /**
   * Assigns the team's queue (priority, then age) while someone fits. One transaction per conversation. Drains of
   * one team take turns (a per-team advisory lock, taken before any row): with drains side by side, one holding the
   * head while it finds nobody (it counted before capacity was freed) made the next pass the head over with
   * SKIP LOCKED and give the freed place to a younger or lower-priority conversation. The head is still taken with
   * SKIP LOCKED, so a row a person is claiming is passed over, never waited for. Returns how many were assigned.
   */
  async drain(teamId: string, max = 1000): Promise<number> {
    let assigned = 0;
    const tried: string[] = [];
    while (assigned < max) {
      const r = await this.ds.transaction(async (em) => {
        await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`routing.drain:${teamId}`]);
        const rows = await em.query(
          `SELECT conversation_id FROM routing.conversation_work
           WHERE team_id = $1 AND owner_id IS NULL AND bot_id IS NULL AND status = 'open' AND conversation_id <> ALL($2::uuid[])
           ORDER BY priority_rank, queued_at, conversation_id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [teamId, tried],
        );
        if (!rows.length) return 'empty' as const;
        const w = (await this.work.find(em, rows[0].conversation_id))!;
        const skills = await this.skillsOf(em, w.conversationId);
        const { state } = await this.route(em, w, { trigger: 'queue', skills, auditQueued: false });
        if (state.ownerId) return 'assigned' as const;
        tried.push(w.conversationId);
        // nobody fits a conversation that needs no skills: nobody fits the rest either
        return skills.length ? ('skip' as const) : ('nobody' as const);
      });
      if (r === 'assigned') assigned++;
      else if (r === 'empty' || r === 'nobody' || tried.length >= 50) break;
    }
    return assigned;
  }

  /**
   * Takes a conversation from its owner (owner offline, unanswered customer, an escalation): back to the queue,
   * then — with `reassign` — straight to the next fitting agent other than the previous owner. The previous owner
   * and the team's managers are told. Runs in the caller's transaction with the work row locked.
   */
  async takeBack(
    em: EntityManager,
    w: WorkState,
    o: { actor: { type: string; id: string | null; name: string | null }; reason: string; reassign: boolean },
  ): Promise<WorkState> {
    const previous = w.ownerId;
    if (!previous) return w;
    const queued = await this.work.update(em, w.conversationId, { ownerId: null });
    await recordChange(this.audit, this.outbox, em, {
      actor: o.actor,
      action: 'conversation.requeued',
      before: w,
      after: queued,
      note: o.reason,
      reason: 'requeue',
      why: { routing: { reason: o.reason, previousOwnerId: previous } },
    });
    let after = queued;
    if (o.reassign) after = (await this.route(em, queued, { trigger: 'reassign', exclude: [previous] })).state;
    const moved = after.ownerId ? `moved to the next agent` : `returned to the team's queue`;
    await this.notice(em, after.ownerId ? 'unassigned' : 'queue', { userIds: [previous], teamManagersOf: w.teamId }, after, `A conversation was ${moved}`, o.reason, {
      previousOwnerId: previous,
      ownerId: after.ownerId,
    });
    return after;
  }

  async notice(
    em: EntityManager,
    kind: NoticeKind,
    audience: { userIds: string[]; teamManagersOf?: string | null },
    w: WorkState,
    title: string,
    body: string,
    data: Record<string, unknown> | null = null,
  ): Promise<void> {
    await this.outbox.add(em, NoticeRequestedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      kind,
      audience: { userIds: audience.userIds, teamManagersOf: audience.teamManagersOf ?? null },
      conversationId: w.conversationId,
      title,
      body: body.slice(0, 2000),
      data: { teamId: w.teamId, ...(data ?? {}) },
      source: 'routing',
    });
  }
}

/** How a team's strategy chose (the audit entry's words). */
const strategyHow = (strategy: 'round_robin' | 'least_loaded') =>
  strategy === 'least_loaded' ? 'least loaded: fewest open conversations' : 'round robin: longest since last assignment';

function explain(
  plan: Plan | null,
  w: WorkState,
  strategy: Strategy,
  skills: string[],
  pick: Pick | null,
  noTeam: boolean,
  trigger: RouteTrigger,
): RouteExplanation {
  const parts: string[] = [];
  if (trigger === 'opened' || trigger === 'reopened') parts.push(plan?.rule ? `rule "${plan.rule.name}" matched` : 'no rule matched');
  if (trigger === 'queue') parts.push('from the queue');
  if (trigger === 'reassign') parts.push('reassigned');
  if (plan?.skipped.length) parts.push(`skipped: ${plan.skipped.map((s) => `"${s.name}" (${s.reason})`).join(', ')}`);
  parts.push(noTeam ? 'no team: waits in the unassigned queue' : `team ${w.teamId}`);
  if (!noTeam) {
    if (pick) parts.push(`${strategy}: ${pick.how} → ${pick.agentId}`);
    else if (plan?.assigneeId) parts.push(`the rule's person ${plan.assigneeId} is not online with capacity → queue`);
    else if (strategy === 'manual') parts.push('manual strategy → queue');
    else parts.push(`${strategy}: nobody online under capacity${skills.length ? ` with skills ${skills.join(', ')}` : ''} → queue`);
  }
  return {
    rule: plan?.rule ?? null,
    skipped: plan?.skipped ?? [],
    teamId: w.teamId,
    priority: plan?.priority ?? null,
    labels: plan?.labels ?? [],
    skills,
    strategy,
    agentId: pick?.agentId ?? null,
    reason: parts.join('; '),
  };
}
