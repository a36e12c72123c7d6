import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  BusinessHoursStateV1,
  CreateRuleV1,
  DeleteRuleV1,
  DryRunRulesV1,
  GetMyAgentV1,
  GetQueueV1,
  GetTeamRoutingV1,
  ListAgentsV1,
  ListRulesV1,
  ReorderRulesV1,
  SetAgentCapacityV1,
  SetAgentStatusV1,
  SetTeamRoutingV1,
  UpdateRuleV1,
  type AgentRef,
} from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { UsersService } from '../users/users.service';
import type { AgentStatusDto, CapacityDto, CreateRuleDto, RuleActionsDto, RuleConditionsDto, TeamRoutingDto, UpdateRuleDto } from './routing.dto';

/**
 * Assignment rules, team strategies, agent status and capacity: the gateway checks that every team and person a
 * request names exists (it owns them; a missing one is 400 with a message), then routing decides and enforces
 * who may change what (admins everything, managers their teams).
 */
@Injectable()
export class RoutingApiService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly teams: TeamsService,
    private readonly users: UsersService,
  ) {}

  listRules(p: Principal) {
    return this.bus.request(ListRulesV1, { actor: actorOf(p) });
  }

  async createRule(p: Principal, dto: CreateRuleDto) {
    await this.checkRefs(dto.conditions, dto.actions);
    if (Object.values(dto.actions).every((v) => v === undefined))
      throw new BadRequestException('actions: a rule needs at least one action (teamId, priority, labels, assigneeId, skills)');
    return this.bus.request(CreateRuleV1, { actor: actorOf(p), ...dto, enabled: dto.enabled ?? true });
  }

  async updateRule(p: Principal, id: string, dto: UpdateRuleDto) {
    if (dto.conditions || dto.actions) await this.checkRefs(dto.conditions ?? {}, dto.actions ?? {});
    return this.bus.request(UpdateRuleV1, { actor: actorOf(p), ruleId: id, ...dto });
  }

  deleteRule(p: Principal, id: string) {
    return this.bus.request(DeleteRuleV1, { actor: actorOf(p), ruleId: id });
  }

  reorder(p: Principal, ids: string[]) {
    return this.bus.request(ReorderRulesV1, { actor: actorOf(p), ids });
  }

  dryRun(p: Principal, conversationId: string, at?: string) {
    return this.bus.request(DryRunRulesV1, { actor: actorOf(p), conversationId, at });
  }

  async getTeam(p: Principal, teamId: string) {
    await this.teams.get(teamId); // 404 for an unknown team
    return this.bus.request(GetTeamRoutingV1, { actor: actorOf(p), teamId });
  }

  async setTeam(p: Principal, teamId: string, dto: TeamRoutingDto) {
    await this.teams.get(teamId);
    return this.bus.request(SetTeamRoutingV1, { actor: actorOf(p), teamId, ...dto });
  }

  async queue(p: Principal, teamId: string, limit?: number) {
    await this.teams.get(teamId);
    return this.bus.request(GetQueueV1, { actor: actorOf(p), teamId, limit: limit ?? 100 });
  }

  setMyStatus(p: Principal, dto: AgentStatusDto) {
    const agent: AgentRef = { id: p.id, name: p.name, role: p.role, teamIds: p.teamIds };
    return this.bus.request(SetAgentStatusV1, { actor: actorOf(p), agent, status: dto.status });
  }

  /** One's own status; someone who never set one is offline with no load. */
  async myStatus(p: Principal) {
    const me = await this.bus.request(GetMyAgentV1, { actor: actorOf(p) });
    return me ?? { userId: p.id, name: p.name, role: p.role, teamIds: p.teamIds, status: 'offline', statusSince: null, statusSetBy: 'agent', maxOpen: null, skills: [], openCount: 0, lastActiveAt: null };
  }

  async setCapacity(p: Principal, userId: string, dto: CapacityDto) {
    const u = await this.users.get(userId); // 404 for an unknown user
    if (u.role === 'viewer') throw new BadRequestException('viewers do not receive conversations');
    return this.bus.request(SetAgentCapacityV1, {
      actor: actorOf(p),
      agent: { id: u.id, name: u.name, role: u.role, teamIds: u.teamIds },
      maxOpen: dto.maxOpen ?? null,
      skills: dto.skills ?? [],
    });
  }

  listAgents(p: Principal, teamId?: string) {
    return this.bus.request(ListAgentsV1, { actor: actorOf(p), teamId });
  }

  /**
   * Every team, person and business-hours calendar a rule names must exist; a named person must be able to own
   * conversations in its team.
   */
  private async checkRefs(c: Partial<RuleConditionsDto>, a: Partial<RuleActionsDto>): Promise<void> {
    for (const [field, teamId] of [
      ['actions.teamId', a.teamId],
      ['conditions.businessHours.teamId', c.businessHours?.teamId],
    ] as const) {
      if (teamId && !(await this.teams.exists(teamId))) throw new BadRequestException(`${field}: team ${teamId} does not exist`);
    }
    if (a.assigneeId) {
      const u = await this.users.get(a.assigneeId).catch((err) => {
        if (err instanceof NotFoundException) throw new BadRequestException(`actions.assigneeId: user ${a.assigneeId} does not exist`);
        throw err;
      });
      if (u.disabled) throw new BadRequestException(`actions.assigneeId: user ${u.id} is disabled`);
      if (u.role === 'viewer') throw new BadRequestException(`actions.assigneeId: user ${u.id} is a viewer and cannot own conversations`);
      if (a.teamId && !u.teamIds.includes(a.teamId))
        throw new BadRequestException(`actions.assigneeId: user ${u.id} is not a member of team ${a.teamId}`);
    }
    const hoursId = c.businessHours?.businessHoursId;
    if (hoursId) {
      // sla owns the calendars: it answers businessHoursId null for one it does not know (which would count as always open)
      const known = await this.bus.request(BusinessHoursStateV1, { businessHoursId: hoursId, at: new Date().toISOString() });
      if (!known.businessHoursId) throw new BadRequestException(`conditions.businessHours.businessHoursId: business hours ${hoursId} do not exist`);
    }
    if (c.timeOfDay) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: c.timeOfDay.timeZone });
      } catch {
        throw new BadRequestException(`conditions.timeOfDay.timeZone: unknown time zone "${c.timeOfDay.timeZone}"`);
      }
    }
  }
}
