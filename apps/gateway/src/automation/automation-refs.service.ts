import { BadRequestException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ListTemplatesV1, type AutomationAction, type AutomationConditions, type TemplateSummary } from '@app/contracts';
import { Bus, BusError } from '@app/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import type { Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { UsersService } from '../users/users.service';
import { CannedService } from './canned.service';

/** What a rule's or macro's actions may name, checked when it is created or changed. */
export interface RefsToCheck {
  conditions?: Pick<AutomationConditions, 'teamIds'>;
  actions: AutomationAction[];
  /** The field the actions are in (`actions` for rules, `steps` for macros), for the 400 message. */
  field: 'actions' | 'steps';
  /** A personal macro may send its owner's personal canned responses; rules and shared macros only team ones. */
  personal: boolean;
}

/**
 * Bad references in automation → 400 naming the field, before routing stores anything: teams (conditions and
 * handoffs), people to notify or assign to (active, not viewers; a rule's assignee a member of every team it names),
 * canned responses the caller may use (team ones for rules and shared macros), and
 * templates: approved in that language for every business number in scope (the registry's active numbers of the
 * rule's teams, else all of them, else the configured default number), asked of notifications; if notifications
 * does not answer in time → 503 (retry), nothing stored.
 */
@Injectable()
export class AutomationRefsService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
    private readonly ds: DataSource,
    private readonly teams: TeamsService,
    private readonly users: UsersService,
    private readonly canned: CannedService,
  ) {}

  async check(p: Principal, r: RefsToCheck): Promise<void> {
    const teamRefs = [
      ...(r.conditions?.teamIds ?? []).map((t, i) => [`conditions.teamIds.${i}`, t] as const),
      ...r.actions.flatMap((a, i) => (a.type === 'handoff' ? [[`${r.field}.${i}.toTeamId`, a.toTeamId] as const] : [])),
    ];
    for (const [field, teamId] of teamRefs) if (!(await this.teams.exists(teamId))) throw new BadRequestException(`${field}: team ${teamId} does not exist`);

    const userRefs = r.actions.flatMap((a, i) => (a.type === 'notify' ? a.userIds.map((u, j) => [`${r.field}.${i}.userIds.${j}`, u] as const) : []));
    if (userRefs.length) {
      const known = new Set((await this.users.byIds(userRefs.map(([, u]) => u))).map((u) => u.id));
      for (const [field, userId] of userRefs) if (!known.has(userId)) throw new BadRequestException(`${field}: user ${userId} does not exist`);
    }

    for (const [i, a] of r.actions.entries()) {
      if (a.type !== 'assign') continue;
      const field = `${r.field}.${i}.agentId`;
      const [u] = await this.users.byIds([a.agentId]);
      if (!u) throw new BadRequestException(`${field}: user ${a.agentId} does not exist`);
      if (u.disabled) throw new BadRequestException(`${field}: user ${a.agentId} is deactivated`);
      if (u.role === 'viewer') throw new BadRequestException(`${field}: user ${a.agentId} is a viewer and cannot own conversations`);
      if (r.field !== 'actions') continue; // a macro assigns within the conversation's team, checked when it runs
      const teamIds = r.conditions?.teamIds ?? [];
      if (!teamIds.length) throw new BadRequestException(`${field}: a rule that assigns must name its teams (conditions.teamIds), each one a team of user ${a.agentId}`);
      const outside = teamIds.filter((t) => !u.teamIds.includes(t));
      if (outside.length) throw new BadRequestException(`${field}: user ${a.agentId} is not a member of team ${outside.join(', ')} the rule applies to`);
    }

    for (const [i, a] of r.actions.entries()) {
      if (a.type !== 'sendCanned') continue;
      const c = await this.canned.findVisible(p, a.cannedResponseId);
      const field = `${r.field}.${i}.cannedResponseId`;
      if (!c) throw new BadRequestException(`${field}: canned response ${a.cannedResponseId} does not exist`);
      if (c.ownerId && !r.personal) throw new BadRequestException(`${field}: "/${c.shortcut}" is a personal canned response; rules and shared macros send team responses`);
    }

    const templates = r.actions.flatMap((a, i) => (a.type === 'template' ? [[i, a] as const] : []));
    if (!templates.length) return;
    const numbers = await this.numbersInScope(r.conditions?.teamIds);
    const lists = await Promise.all(numbers.map(async (n) => [n, await this.approved(n)] as const));
    for (const [i, t] of templates)
      for (const [number, items] of lists) {
        const found = items.find((x) => x.name === t.name && x.language === t.language);
        if (!found) throw new BadRequestException(`${r.field}.${i}: template "${t.name}" (${t.language}) is not an approved template of business number ${number}`);
        if (found.bodyParameterCount !== null && found.bodyParameterCount !== t.bodyParameters.length)
          throw new BadRequestException(`${r.field}.${i}.bodyParameters: template "${t.name}" takes ${found.bodyParameterCount} body parameters, ${t.bodyParameters.length} given`);
      }
  }

  private async approved(phoneNumberId: string): Promise<TemplateSummary[]> {
    try {
      return (await this.bus.request(ListTemplatesV1, { phoneNumberId })).items;
    } catch (err) {
      if (err instanceof BusError && (err.code === 'TIMEOUT' || err.code === 'UNAVAILABLE'))
        throw new ServiceUnavailableException(`templates cannot be checked now (${err.message}); nothing was saved, try again`);
      throw err;
    }
  }

  /** The registry's active numbers routing the rule's teams (else every active number), else the default number. */
  private async numbersInScope(teamIds: string[] | undefined): Promise<string[]> {
    const rows: Array<{ phone_number_id: string; default_team_id: string | null }> = await this.ds.query(
      `SELECT phone_number_id, default_team_id FROM gateway.phone_number WHERE status = 'active' ORDER BY phone_number_id`,
    );
    const ofTeams = teamIds?.length ? rows.filter((r) => r.default_team_id && teamIds.includes(r.default_team_id)) : [];
    const numbers = (ofTeams.length ? ofTeams : rows).map((r) => r.phone_number_id);
    return numbers.length ? numbers : [this.cfg.DEMO_PHONE_NUMBER_ID];
  }
}
