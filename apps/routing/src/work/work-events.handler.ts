import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ConversationOpenedV1, DirectoryChangedV1, MessageReceivedV1, OutboundQueuedV1, type PayloadOf, type WorkState } from '@app/contracts';
import { Bus, type EventMeta } from '@app/messaging';
import { claimEvent, OutboxWriter } from '@app/persistence';
import { AssignmentService } from '../assignment/assignment.service';
import { RoutingClock } from '../assignment/clock';
import { contextOf } from '../assignment/rules';
import { recordChange, SYSTEM_ACTOR } from './record-change';
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
    private readonly assignment: AssignmentService,
    private readonly clock: RoutingClock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(ConversationOpenedV1, { durable: 'routing-work-on-opened', concurrency: 8 }, (e) => this.opened(e));
    await this.bus.consume(MessageReceivedV1, { durable: 'routing-work-on-message', concurrency: 8 }, (e) => this.message(e));
    await this.bus.consume(DirectoryChangedV1, { durable: 'routing-audit-directory' }, (e, meta) => this.directory(e, meta));
    await this.bus.consume(OutboundQueuedV1, { durable: 'routing-work-on-outbound' }, (e) => this.outbound(e));
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

  /**
   * A new conversation: the rules (evaluated first, outside the transaction, since a business-hours rule asks sla)
   * set team, priority, labels and skills; then, in one transaction with the new row, the team's strategy picks
   * the owner or it waits in the queue. A reopened one keeps its owner; without one it is routed again.
   */
  async opened(e: PayloadOf<typeof ConversationOpenedV1>): Promise<void> {
    const ctx = contextOf(e);
    const plan = e.reopened ? null : await this.assignment.plan(ctx, this.clock.now());
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', 'routing-work-on-opened', e.eventId))) return;
      const created = await this.work.insertOpened(em, {
        conversationId: e.conversationId,
        phoneNumberId: e.phoneNumberId,
        contactId: e.contactId,
        openedAt: e.occurredAt,
        teamId: plan?.teamId,
        priority: plan?.priority,
        labels: plan?.labels ? [...new Set(plan.labels)].sort() : undefined,
        skills: plan?.skills,
        context: ctx,
      });
      if (created) {
        await recordChange(this.audit, this.outbox, em, {
          actor: SYSTEM_ACTOR,
          action: 'conversation.opened',
          before: null,
          after: created,
          note: null,
          why: { routing: { rule: plan?.rule ?? null, skipped: plan?.skipped ?? [] } },
        });
        await this.assignment.route(em, created, { plan, trigger: 'opened', skills: plan?.skills ?? [] });
        return;
      }
      const w = (await this.work.lock(em, e.conversationId))!;
      // reopen only a conversation resolved before this event happened (an older reopen arriving late is ignored)
      if (w.status !== 'resolved' || !w.resolvedAt || new Date(w.resolvedAt) > new Date(e.occurredAt)) return;
      await this.reopen(em, w);
    });
  }

  /** Back to open (same owner); without an owner the team's strategy picks one. */
  private async reopen(em: EntityManager, w: WorkState): Promise<void> {
    const after = await this.work.update(em, w.conversationId, { status: 'open', snoozeUntil: null, resolvedAt: null });
    await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.reopened', before: w, after, note: null });
    if (!after.ownerId) await this.assignment.route(em, after, { trigger: 'reopened' });
  }

  /** Someone (a person, an integration) answered: the customer no longer waits. */
  async outbound(e: PayloadOf<typeof OutboundQueuedV1>): Promise<void> {
    // an automatic send (senderId null: away/greeting replies, follow-ups) leaves the customer waiting
    if (e.conversationId && e.senderId !== null) await this.work.answered(this.ds.manager, e.conversationId);
  }

  async message(e: PayloadOf<typeof MessageReceivedV1>): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', 'routing-work-on-message', e.eventId))) return;
      const customer = e.direction === 'inbound' && e.origin === 'customer';
      await this.work.touchMessage(em, e.conversationId, e.sentAt, customer);
      if (!customer) {
        if (e.origin === 'echo') await this.work.answered(em, e.conversationId); // answered from the phone app
        return;
      }
      const w = await this.work.lock(em, e.conversationId);
      if (!w) return;
      if (w.status === 'resolved') {
        // the customer wrote after the resolve but before ingest saw it (so no reopened event will come):
        // reopen here, or the message would sit unanswered in a resolved conversation
        if (!w.resolvedAt || new Date(w.resolvedAt) > new Date(e.occurredAt)) return;
        await this.reopen(em, w);
        return;
      }
      if (w.status !== 'pending' && w.status !== 'snoozed') return;
      const after = await this.work.update(em, e.conversationId, { status: 'open', snoozeUntil: null });
      await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.customer-replied', before: w, after, note: null });
    });
  }
}
