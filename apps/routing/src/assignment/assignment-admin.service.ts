import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type Actor,
  type AgentRef,
  type AgentStatus,
  type AgentView,
  type CreateRuleV1,
  type RequestOf,
  type RouteExplanation,
  type RuleView,
  type SetTeamRoutingV1,
  type TeamRouting,
  type UpdateRuleV1,
  type WorkState,
} from '@app/contracts';
import { currentCorrelationId, ForbiddenError, NotFoundError, ValidationError } from '@app/messaging';
import { canSee, managesTeam } from '../work/permissions';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { AgentRepository, RuleRepository, TeamRoutingRepository, type RuleRow } from './assignment.repository';
import { AssignmentService } from './assignment.service';
import { RoutingClock } from './clock';
import { AssignmentSweeper, QueueDrainer } from './assignment.sweeper';
import type { RouteContext } from './rules';

const actorRef = (a: Actor) => ({ type: a.type, id: a.id, name: a.name });
const publicRule = ({ errorCount, lastError, ...r }: RuleRow): RuleView => ({ ...r, errorCount, lastError });

/** Admins change every rule; a manager only rules that send conversations to one of their teams. */
function mayEditRule(a: Actor, teamId: string | undefined | null): boolean {
  if (a.role === 'admin') return true;
  return a.role === 'manager' && !!teamId && a.teamIds.includes(teamId);
}

function requireManager(a: Actor): void {
  if (a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only admins and managers manage routing');
}

/**
 * Rules, team strategies, agent availability and capacity, queues: what people set and see through the API.
 * Every change is an audit entry; changes that can free or add capacity kick the affected queues.
 */
@Injectable()
export class AssignmentAdminService {
  constructor(
    private readonly ds: DataSource,
    private readonly rules: RuleRepository,
    private readonly teams: TeamRoutingRepository,
    private readonly agents: AgentRepository,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly assignment: AssignmentService,
    private readonly drainer: QueueDrainer,
    private readonly sweeper: AssignmentSweeper,
    private readonly clock: RoutingClock,
  ) {}

  private record(em: EntityManager, actor: Actor, action: string, teamId: string | null, before: unknown, after: unknown, note?: string) {
    return this.audit.append(em, {
      conversationId: null,
      teamId,
      actor: actorRef(actor),
      action,
      before,
      after,
      note: note ?? null,
      requestId: currentCorrelationId() ?? null,
    });
  }

  // ---- rules

  async listRules(actor: Actor): Promise<{ items: RuleView[] }> {
    requireManager(actor);
    const all = await this.rules.all(this.ds.manager);
    return { items: all.map(publicRule) };
  }

  createRule(actor: Actor, r: RequestOf<typeof CreateRuleV1>): Promise<RuleView> {
    requireManager(actor);
    if (!mayEditRule(actor, r.actions.teamId)) throw new ForbiddenError('managers create rules that send conversations to one of their teams (actions.teamId)');
    return this.ds.transaction(async (em) => {
      await this.rules.lockAll(em);
      const n = await this.rules.count(em);
      const position = Math.min(r.position ?? n + 1, n + 1);
      await this.rules.shift(em, position, 1);
      const created = await this.rules.insert(em, { name: r.name, position, enabled: r.enabled, conditions: r.conditions, actions: r.actions });
      await this.record(em, actor, 'rule.created', r.actions.teamId ?? null, null, publicRule(created));
      return publicRule(created);
    });
  }

  updateRule(actor: Actor, r: RequestOf<typeof UpdateRuleV1>): Promise<RuleView> {
    requireManager(actor);
    return this.ds.transaction(async (em) => {
      await this.rules.lockAll(em);
      const before = await this.rules.find(em, r.ruleId);
      if (!before) throw new NotFoundError(`rule ${r.ruleId} not found`);
      const actions = r.actions ?? before.actions;
      if (!mayEditRule(actor, before.actions.teamId) || !mayEditRule(actor, actions.teamId))
        throw new ForbiddenError('managers change only rules that send conversations to one of their teams');
      const n = await this.rules.count(em);
      const position = Math.min(r.position ?? before.position, n);
      if (position < before.position) await this.rules.shift(em, position, 1, before.position - 1);
      if (position > before.position) await this.rules.shift(em, before.position + 1, -1, position);
      const after = await this.rules.update(em, {
        id: r.ruleId,
        name: r.name ?? before.name,
        position,
        enabled: r.enabled ?? before.enabled,
        conditions: r.conditions ?? before.conditions,
        actions,
      });
      await this.record(em, actor, 'rule.updated', actions.teamId ?? null, publicRule(before), publicRule(after));
      return publicRule(after);
    });
  }

  deleteRule(actor: Actor, ruleId: string): Promise<{ deleted: boolean }> {
    requireManager(actor);
    return this.ds.transaction(async (em) => {
      await this.rules.lockAll(em);
      const before = await this.rules.find(em, ruleId);
      if (!before) throw new NotFoundError(`rule ${ruleId} not found`);
      if (!mayEditRule(actor, before.actions.teamId)) throw new ForbiddenError('managers delete only rules of their teams');
      await this.rules.delete(em, ruleId);
      await this.rules.shift(em, before.position + 1, -1);
      await this.record(em, actor, 'rule.deleted', before.actions.teamId ?? null, publicRule(before), null);
      return { deleted: true };
    });
  }

  /** The given rules take, in the given order, the positions they hold now. */
  reorder(actor: Actor, ids: string[]): Promise<{ items: RuleView[] }> {
    requireManager(actor);
    if (new Set(ids).size !== ids.length) throw new ValidationError('ids must not repeat', { field: 'ids' });
    return this.ds.transaction(async (em) => {
      await this.rules.lockAll(em);
      const all = await this.rules.all(em);
      const byId = new Map(all.map((r) => [r.id, r]));
      const missing = ids.filter((id) => !byId.has(id));
      if (missing.length) throw new ValidationError(`unknown rule(s): ${missing.join(', ')}`, { field: 'ids' });
      const moved = ids.map((id) => byId.get(id)!);
      if (moved.some((r) => !mayEditRule(actor, r.actions.teamId))) throw new ForbiddenError('managers reorder only rules of their teams');
      const slots = moved.map((r) => r.position).sort((a, b) => a - b);
      for (let i = 0; i < moved.length; i++) await this.rules.setPosition(em, moved[i].id, slots[i]);
      await this.record(em, actor, 'rule.reordered', null, { order: all.map((r) => r.id) }, { ids, positions: slots });
      return { items: (await this.rules.all(em)).map(publicRule) };
    });
  }

  /** Which rule would match this conversation now, and whom the strategy would pick (nothing changes). */
  async dryRun(actor: Actor, conversationId: string, at?: string): Promise<RouteExplanation> {
    requireManager(actor);
    const rows = await this.ds.query(`SELECT route_context, required_skills FROM routing.conversation_work WHERE conversation_id = $1`, [conversationId]);
    const w = await this.work.find(this.ds.manager, conversationId);
    if (!w || !canSee(actor, w)) throw new NotFoundError(`conversation ${conversationId} not found`);
    const ctx: RouteContext = rows[0].route_context ?? { phoneNumberId: w.phoneNumberId, contact: {}, message: null };
    const plan = await this.assignment.plan(ctx, at ? new Date(at) : this.clock.now());
    return this.ds.transaction(async (em) => {
      const teamId = plan.teamId ?? (await this.work.numberTeam(em, w.phoneNumberId));
      const hypothetical: WorkState = { ...w, teamId, ownerId: null };
      return this.assignment.preview(em, hypothetical, plan, plan.skills ?? [], 'opened');
    });
  }

  // ---- team strategy

  async getTeam(actor: Actor, teamId: string): Promise<TeamRouting> {
    if (actor.role !== 'admin' && !actor.teamIds.includes(teamId)) throw new NotFoundError(`team ${teamId} not found`);
    return this.teams.get(this.ds.manager, teamId);
  }

  async setTeam(actor: Actor, r: RequestOf<typeof SetTeamRoutingV1>): Promise<TeamRouting> {
    if (!managesTeam(actor, r.teamId)) throw new ForbiddenError('only admins and the team’s managers set its routing');
    const after = await this.ds.transaction(async (em) => {
      const before = await this.teams.get(em, r.teamId, true);
      const { actor: _a, ...settings } = r;
      const saved = await this.teams.put(em, settings);
      await this.record(em, actor, 'team.routing-set', r.teamId, before, saved);
      return saved;
    });
    this.drainer.kick([r.teamId]);
    return after;
  }

  // ---- agents

  async setStatus(actor: Actor, agent: AgentRef, status: AgentStatus): Promise<AgentView> {
    if (actor.type !== 'user' || actor.id !== agent.id) throw new ForbiddenError('people set only their own status');
    if (agent.role === 'viewer') throw new ValidationError('viewers do not receive conversations, so they have no status');
    const view = await this.ds.transaction(async (em) => {
      await this.agents.project(em, { ...agent, active: true }, null);
      const before = (await this.agents.lock(em, agent.id))!;
      if (before.status !== status || before.setBy !== 'agent') {
        await this.agents.setStatus(em, agent.id, status, 'agent', this.clock.now());
        await this.record(em, actor, 'agent.status', null, { userId: agent.id, status: before.status }, { userId: agent.id, status, setBy: 'agent' });
      }
      return (await this.agents.view(em, agent.id))!;
    });
    if (status === 'online') this.drainer.kick(view.teamIds);
    // the owner's open conversations follow the team's on-owner-offline setting now (the sweeper is the backstop)
    if (status === 'offline') void this.sweeper.ownersOffline().catch(() => undefined);
    return view;
  }

  async myAgent(actor: Actor): Promise<AgentView | null> {
    if (actor.type !== 'user') throw new ForbiddenError('only people have a status');
    return this.agents.view(this.ds.manager, actor.id);
  }

  async setCapacity(actor: Actor, agent: AgentRef, maxOpen: number | null, skills: string[]): Promise<AgentView> {
    if (actor.role !== 'admin' && !(actor.role === 'manager' && agent.teamIds.some((t) => actor.teamIds.includes(t))))
      throw new ForbiddenError('only admins and the agent’s managers set capacity and skills');
    const view = await this.ds.transaction(async (em) => {
      await this.agents.project(em, { ...agent, active: true }, null);
      const before = (await this.agents.view(em, agent.id))!;
      const clean = [...new Set(skills.map((s) => s.trim()))].sort();
      await this.agents.setCapacity(em, agent.id, maxOpen, clean);
      await this.record(em, actor, 'agent.capacity-set', null, { userId: agent.id, maxOpen: before.maxOpen, skills: before.skills }, { userId: agent.id, maxOpen, skills: clean });
      return (await this.agents.view(em, agent.id))!;
    });
    this.drainer.kick(view.teamIds);
    return view;
  }

  async listAgents(actor: Actor, teamId?: string): Promise<{ items: AgentView[] }> {
    requireManager(actor);
    if (teamId && actor.role !== 'admin' && !actor.teamIds.includes(teamId)) throw new ForbiddenError('managers see the agents of their teams');
    return { items: await this.agents.list(this.ds.manager, actor.role === 'admin' ? null : actor.teamIds, teamId) };
  }

  async queue(actor: Actor, teamId: string, limit: number) {
    if (actor.role !== 'admin' && !actor.teamIds.includes(teamId)) throw new NotFoundError(`team ${teamId} not found`);
    const rows = await this.ds.query(
      `SELECT conversation_id, priority, queued_at, labels, required_skills, count(*) OVER ()::int AS total
       FROM routing.conversation_work WHERE team_id = $1 AND owner_id IS NULL AND bot_id IS NULL AND status = 'open'
       ORDER BY priority_rank, queued_at, conversation_id LIMIT $2`,
      [teamId, limit],
    );
    return {
      teamId,
      total: rows[0]?.total ?? 0,
      items: rows.map((r: any) => ({
        conversationId: r.conversation_id,
        priority: r.priority,
        queuedAt: new Date(r.queued_at ?? Date.now()).toISOString(),
        labels: r.labels,
        skills: r.required_skills,
      })),
    };
  }

  async reportClients(clients: { userId: string; clientId: string; connected: boolean; lastActiveAt: string }[]): Promise<{ accepted: number }> {
    await this.agents.reportClients(this.ds.manager, clients, this.clock.now());
    return { accepted: clients.length };
  }

  /** RequeueV1: back to the team's queue (the strategy picks again), audited with the caller's reason. */
  async requeue(actor: Actor, conversationId: string, reason: string): Promise<WorkState> {
    const after = await this.ds.transaction(async (em) => {
      const w = await this.work.lock(em, conversationId);
      if (!w || !canSee(actor, w)) throw new NotFoundError(`conversation ${conversationId} not found`);
      if (!managesTeam(actor, w.teamId) && actor.type !== 'system') throw new ForbiddenError('only the system, admins and the team’s managers requeue');
      return this.assignment.takeBack(em, w, { actor: actorRef(actor), reason, reassign: false });
    });
    this.drainer.kick([after.teamId]);
    return after;
  }
}
