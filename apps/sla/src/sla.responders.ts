import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  BusinessHoursStateV1,
  CancelReminderV1,
  CreateBusinessHoursV1,
  CreateFollowUpRuleV1,
  CreateReminderV1,
  CreateSlaPolicyV1,
  DeleteBusinessHoursV1,
  DeleteFollowUpRuleV1,
  DeleteSlaPolicyV1,
  GetConversationSlaV1,
  ListBusinessHoursV1,
  ListFollowUpRulesV1,
  ListRemindersV1,
  ListSlaPoliciesV1,
  RankBySlaV1,
  UpdateBusinessHoursV1,
  UpdateSlaPolicyV1,
} from '@app/contracts';
import { Bus } from '@app/messaging';
import { SlaAdminService } from './admin/sla-admin.service';
import { SlaQueriesService } from './clocks/sla-queries.service';
import { RemindersService } from './timers/reminders.service';

/** Answers the sla.* requests: transport only, the rules live in the services. */
@Injectable()
export class SlaResponders implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly admin: SlaAdminService,
    private readonly queries: SlaQueriesService,
    private readonly reminders: RemindersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const a = this.admin;
    await Promise.all([
      this.bus.respond(CreateSlaPolicyV1, (r) => a.createPolicy(r.actor, r.policy)),
      this.bus.respond(ListSlaPoliciesV1, async (r) => ({ items: await a.listPolicies(r.actor, r.teamId) })),
      this.bus.respond(UpdateSlaPolicyV1, (r) => a.updatePolicy(r.actor, r.id, r.patch)),
      this.bus.respond(DeleteSlaPolicyV1, (r) => a.deletePolicy(r.actor, r.id)),
      this.bus.respond(CreateBusinessHoursV1, (r) => a.createHours(r.actor, r.hours)),
      this.bus.respond(ListBusinessHoursV1, async (r) => ({ items: await a.listHours(r.actor) })),
      this.bus.respond(UpdateBusinessHoursV1, (r) => a.updateHours(r.actor, r.id, r.hours)),
      this.bus.respond(DeleteBusinessHoursV1, (r) => a.deleteHours(r.actor, r.id)),
      this.bus.respond(CreateFollowUpRuleV1, (r) => a.createRule(r.actor, r.rule)),
      this.bus.respond(ListFollowUpRulesV1, async (r) => ({ items: await a.listRules(r.actor, r.teamId) })),
      this.bus.respond(DeleteFollowUpRuleV1, (r) => a.deleteRule(r.actor, r.id)),
      this.bus.respond(CreateReminderV1, (r) => this.reminders.create(r.actor, r.conversationId, r.at ? { at: r.at } : { nextDayAt: r.nextDayAt!, teamId: r.teamId }, r.note)),
      this.bus.respond(ListRemindersV1, async (r) => ({ items: await this.reminders.list(r.actor, r.conversationId, r.teamId) })),
      this.bus.respond(CancelReminderV1, (r) => this.reminders.cancel(r.actor, r.conversationId, r.id)),
      this.bus.respond(GetConversationSlaV1, async (r) => ({ items: await this.queries.conversations(r.conversationIds) })),
      this.bus.respond(RankBySlaV1, async (r) => ({ ids: await this.queries.rank(r.sort, r.limit) })),
      this.bus.respond(BusinessHoursStateV1, (r) => this.queries.businessHoursState(r)),
    ]);
  }
}
