import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  CreateRuleV1,
  DeleteRuleV1,
  DirectoryChangedV1,
  DryRunRulesV1,
  GetMyAgentV1,
  GetQueueV1,
  GetTeamRoutingV1,
  ListAgentsV1,
  ListRulesV1,
  ReorderRulesV1,
  ReportAgentClientsV1,
  RequeueV1,
  SetAgentCapacityV1,
  SetAgentStatusV1,
  SetTeamRoutingV1,
  UpdateRuleV1,
  ROLES,
  type PayloadOf,
} from '@app/contracts';
import { Bus } from '@app/messaging';
import { claimEvent } from '@app/persistence';
import { DataSource } from 'typeorm';
import { AssignmentAdminService } from './assignment-admin.service';
import { AgentRepository } from './assignment.repository';

/** Answers the assignment requests (transport only) and keeps the agent projection from the gateway's directory. */
@Injectable()
export class AssignmentResponders implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly admin: AssignmentAdminService,
    private readonly ds: DataSource,
    private readonly agents: AgentRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const a = this.admin;
    await Promise.all([
      this.bus.respond(ListRulesV1, (r) => a.listRules(r.actor)),
      this.bus.respond(CreateRuleV1, (r) => a.createRule(r.actor, r)),
      this.bus.respond(UpdateRuleV1, (r) => a.updateRule(r.actor, r)),
      this.bus.respond(DeleteRuleV1, (r) => a.deleteRule(r.actor, r.ruleId)),
      this.bus.respond(ReorderRulesV1, (r) => a.reorder(r.actor, r.ids)),
      this.bus.respond(DryRunRulesV1, (r) => a.dryRun(r.actor, r.conversationId, r.at)),
      this.bus.respond(GetTeamRoutingV1, (r) => a.getTeam(r.actor, r.teamId)),
      this.bus.respond(SetTeamRoutingV1, (r) => a.setTeam(r.actor, r)),
      this.bus.respond(SetAgentStatusV1, (r) => a.setStatus(r.actor, r.agent, r.status)),
      this.bus.respond(GetMyAgentV1, (r) => a.myAgent(r.actor)),
      this.bus.respond(SetAgentCapacityV1, (r) => a.setCapacity(r.actor, r.agent, r.maxOpen, r.skills)),
      this.bus.respond(ListAgentsV1, (r) => a.listAgents(r.actor, r.teamId)),
      this.bus.respond(GetQueueV1, (r) => a.queue(r.actor, r.teamId, r.limit)),
      this.bus.respond(ReportAgentClientsV1, (r) => a.reportClients(r.clients)),
      this.bus.respond(RequeueV1, (r) => a.requeue(r.actor, r.conversationId, r.reason)),
    ]);
    await this.bus.consume(DirectoryChangedV1, { durable: 'routing-agents-directory' }, (e) => this.directory(e));
  }

  /** user.created / user.updated carry the user's role, teams and disabled flag: routing's agent projection. */
  async directory(e: PayloadOf<typeof DirectoryChangedV1>): Promise<void> {
    if (e.entityType !== 'user' || !e.after) return;
    const after = e.after as { name?: unknown; role?: unknown; teamIds?: unknown; disabled?: unknown };
    const role = ROLES.find((r) => r === after.role);
    if (!role || !Array.isArray(after.teamIds)) return;
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', 'routing-agents-directory', e.eventId))) return;
      await this.agents.project(
        em,
        {
          id: e.entityId,
          name: typeof after.name === 'string' ? after.name : null,
          role,
          teamIds: after.teamIds as string[],
          active: after.disabled !== true,
        },
        e.occurredAt,
      );
    });
  }
}
