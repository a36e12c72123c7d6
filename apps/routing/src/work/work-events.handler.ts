import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConversationOpenedV1, DirectoryChangedV1, MessageReceivedV1, type PayloadOf } from '@app/contracts';
import { Bus, type EventMeta } from '@app/messaging';
import { claimEvent, OutboxWriter } from '@app/persistence';
import { recordChange, SYSTEM_ACTOR } from './work-changes.service';
import { AuditRepository, WorkRepository } from './work.repository';

/**
 * Keeps the work state in step with ingest: a new conversation becomes an unowned work item in the number's
 * default team; a reopened one goes back to open (same owner); a customer message wakes a pending/snoozed one.
 * Idempotent by event id (processed_event in the same transaction); tolerant of order (compares times).
 */
@Injectable()
export class WorkEventsHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(ConversationOpenedV1, { durable: 'routing-work-on-opened', concurrency: 8 }, (e) => this.opened(e));
    await this.bus.consume(MessageReceivedV1, { durable: 'routing-work-on-message', concurrency: 8 }, (e) => this.message(e));
    await this.bus.consume(DirectoryChangedV1, { durable: 'routing-audit-directory' }, (e, meta) => this.directory(e, meta));
  }

  /** An administration change in the gateway (people, teams, API keys) joins the audit trail, once. */
  async directory(e: PayloadOf<typeof DirectoryChangedV1>, meta: EventMeta): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', 'routing-audit-directory', e.eventId))) return;
      await this.audit.append(em, {
        conversationId: null,
        teamId: null,
        actor: e.actor,
        action: e.action,
        before: e.before ? { [e.entityType + 'Id']: e.entityId, ...e.before } : null,
        after: e.after ? { [e.entityType + 'Id']: e.entityId, ...e.after } : null,
        requestId: meta.correlationId ?? null,
      });
    });
  }

  async opened(e: PayloadOf<typeof ConversationOpenedV1>): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', 'routing-work-on-opened', e.eventId))) return;
      const created = await this.work.insertOpened(em, {
        conversationId: e.conversationId,
        phoneNumberId: e.phoneNumberId,
        contactId: e.contactId,
        openedAt: e.occurredAt,
      });
      if (created) {
        await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.opened', before: null, after: created, note: null });
        return;
      }
      const w = (await this.work.lock(em, e.conversationId))!;
      // reopen only a conversation resolved before this event happened (an older reopen arriving late is ignored)
      if (w.status !== 'resolved' || !w.resolvedAt || new Date(w.resolvedAt) > new Date(e.occurredAt)) return;
      const after = await this.work.update(em, e.conversationId, { status: 'open', snoozeUntil: null, resolvedAt: null });
      await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.reopened', before: w, after, note: null });
    });
  }

  async message(e: PayloadOf<typeof MessageReceivedV1>): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', 'routing-work-on-message', e.eventId))) return;
      await this.work.touchMessage(em, e.conversationId, e.sentAt);
      if (e.direction !== 'inbound' || e.origin !== 'customer') return;
      const w = await this.work.lock(em, e.conversationId);
      if (!w) return;
      if (w.status === 'resolved') {
        // the customer wrote after the resolve but before ingest saw it (so no reopened event will come):
        // reopen here, or the message would sit unanswered in a resolved conversation
        if (!w.resolvedAt || new Date(w.resolvedAt) > new Date(e.occurredAt)) return;
        const after = await this.work.update(em, e.conversationId, { status: 'open', snoozeUntil: null, resolvedAt: null });
        await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.reopened', before: w, after, note: null });
        return;
      }
      if (w.status !== 'pending' && w.status !== 'snoozed') return;
      const after = await this.work.update(em, e.conversationId, { status: 'open', snoozeUntil: null });
      await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.customer-replied', before: w, after, note: null });
    });
  }
}
