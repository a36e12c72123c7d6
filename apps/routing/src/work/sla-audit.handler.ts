import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SLA_ACTOR, SlaEscalatedV1, type PayloadOf } from '@app/contracts';
import { Bus, type EventMeta } from '@app/messaging';
import { claimEvent } from '@app/persistence';
import { AuditRepository } from './work.repository';

const DURABLE = 'routing-audit-sla';

/**
 * What sla did about a conversation (warning, breach and its escalation actions, window closing, follow-up)
 * joins the audit trail once (processed_event), with the system actor `sla` and its reason.
 */
@Injectable()
export class SlaAuditHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(SlaEscalatedV1, { durable: DURABLE, concurrency: 4 }, (e, meta) => this.escalated(e, meta));
  }

  async escalated(e: PayloadOf<typeof SlaEscalatedV1>, meta: EventMeta): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', DURABLE, e.eventId))) return;
      await this.audit.append(em, {
        conversationId: e.conversationId,
        teamId: e.teamId,
        actor: { type: SLA_ACTOR.type, id: SLA_ACTOR.id, name: SLA_ACTOR.name },
        action: `sla.${e.level}`,
        before: null,
        after: { target: e.target, dueAt: e.dueAt, actions: e.actions, late: e.late, at: e.occurredAt },
        note: `SLA ${e.target} ${e.level}${e.late ? ' (fired late)' : ''}: ${e.actions.join(', ')}`,
        requestId: meta.correlationId ?? null,
      });
    });
  }
}
