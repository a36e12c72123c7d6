import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  AddNoteV1,
  AssignV1,
  BotHandoverV1,
  BotHoldV1,
  BotTakeBackV1,
  ClaimV1,
  GetActivityV1,
  GetWorkV1,
  HandoffV1,
  ListAuditV1,
  ListWorkV1,
  PrepareReplyV1,
  SetLabelsV1,
  SetNumberTeamV1,
  SetPriorityV1,
  SetStatusV1,
  TakeoverV1,
} from '@app/contracts';
import { Bus, currentCorrelationId, ForbiddenError } from '@app/messaging';
import { DataSource } from 'typeorm';
import { WorkChangesService } from './work-changes.service';
import { WorkQueriesService } from './work-queries.service';
import { AuditRepository, WorkRepository } from './work.repository';

/** Answers the routing.* requests: transport only, the rules live in the services. */
@Injectable()
export class WorkResponders implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly changes: WorkChangesService,
    private readonly queries: WorkQueriesService,
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const c = this.changes;
    const q = this.queries;
    await Promise.all([
      this.bus.respond(GetWorkV1, (r) => q.get(r.actor, r.conversationId)),
      this.bus.respond(ListWorkV1, (r) => q.list(r)),
      this.bus.respond(GetActivityV1, (r) => q.activity(r.actor, r.conversationId, r.limit)),
      this.bus.respond(ListAuditV1, (r) => q.listAudit(r)),
      this.bus.respond(ClaimV1, (r) => c.claim(r.actor, r.conversationId, r.version)),
      this.bus.respond(AssignV1, (r) => c.assign(r.actor, r)),
      this.bus.respond(HandoffV1, (r) => c.handoff(r.actor, r)),
      this.bus.respond(SetStatusV1, (r) => c.setStatus(r.actor, r)),
      this.bus.respond(TakeoverV1, (r) => c.takeover(r.actor, r.conversationId, r.version)),
      this.bus.respond(SetLabelsV1, (r) => c.setLabels(r.actor, r.conversationId, r.version, r.labels)),
      this.bus.respond(SetPriorityV1, (r) => c.setPriority(r.actor, r.conversationId, r.version, r.priority)),
      this.bus.respond(AddNoteV1, (r) => c.addNote(r.actor, r.conversationId, r.body, r.mentions, r.version)),
      this.bus.respond(PrepareReplyV1, (r) => c.prepareReply(r.actor, r.conversationId, r.version)),
      this.bus.respond(BotHoldV1, (r) => c.botHold(r.actor, r.conversationId, r.version)),
      this.bus.respond(BotHandoverV1, (r) => c.botHandover(r.actor, r)),
      this.bus.respond(BotTakeBackV1, (r) => c.botTakeBack(r.actor, r.conversationId, r.version)),
      this.bus.respond(SetNumberTeamV1, async (r) => {
        if (r.actor.role !== 'admin') throw new ForbiddenError('only admins set a number’s default team');
        await this.ds.transaction(async (em) => {
          const before = await this.work.numberTeam(em, r.phoneNumberId);
          await this.work.setNumberTeam(em, r.phoneNumberId, r.teamId);
          await this.audit.append(em, {
            conversationId: null,
            teamId: null,
            actor: { type: r.actor.type, id: r.actor.id, name: r.actor.name },
            action: 'number.team-set',
            before: { phoneNumberId: r.phoneNumberId, teamId: before },
            after: { phoneNumberId: r.phoneNumberId, teamId: r.teamId },
            requestId: currentCorrelationId() ?? null,
          });
        });
        return { phoneNumberId: r.phoneNumberId, teamId: r.teamId };
      }),
    ]);
  }
}
