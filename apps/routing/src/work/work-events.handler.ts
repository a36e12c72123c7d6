import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ConversationOpenedV1, DirectoryChangedV1, MessageReceivedV1, OutboundQueuedV1, type PayloadOf, type WorkState } from '@app/contracts';
import { Bus, type EventMeta } from '@app/messaging';
import { claimEvent, claimEvents, OutboxWriter } from '@app/persistence';
import { AssignmentService, type Plan, type RouteMemo } from '../assignment/assignment.service';
import { RoutingClock } from '../assignment/clock';
import { contextOf } from '../assignment/rules';
import { MicroBatcher } from './micro-batcher';
import { recordChange, SYSTEM_ACTOR } from './record-change';
import { AuditRepository, WorkRepository } from './work.repository';

const OPENED_DURABLE = 'routing-work-on-opened';
/**
 * Opened events decided per transaction at most, and such transactions at once per replica: one, so the next batch
 * gathers while it runs (bigger batches: fewer statements per conversation); its agent lock takes at most as many
 * agents as it has conversations, so replicas side by side still find unlocked agents.
 */
const OPENED_BATCH = 16;
const OPENED_BATCHES_IN_FLIGHT = 1;

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

  private readonly openedBatches = new MicroBatcher((batch: { item: PayloadOf<typeof ConversationOpenedV1>; within: <R>(fn: () => R) => R }[]) => this.openedBatch(batch), OPENED_BATCH, OPENED_BATCHES_IN_FLIGHT);

  async onApplicationBootstrap(): Promise<void> {
    // enough deliveries in flight to fill the running batches and the next one
    await this.bus.consume(ConversationOpenedV1, { durable: OPENED_DURABLE, concurrency: OPENED_BATCH * (OPENED_BATCHES_IN_FLIGHT + 1) }, (e) => this.opened(e));
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
   * Deliveries that arrive together are decided together (`openedBatch`); resolves once committed.
   */
  opened(e: PayloadOf<typeof ConversationOpenedV1>): Promise<void> {
    return this.openedBatches.submit(e);
  }

  /**
   * Several opened events in one transaction (a burst costs a few statements per batch, not ~15 per conversation):
   * the rules are read once and each business-hours question asked once; the events are claimed and the new work
   * items inserted with one statement each; existing rows (reopened) are locked next, then the rows of the teams with
   * a total (`AssignmentService.lockTeams`), before any agent row (lock order: work rows, teams, agents); then the
   * new conversations are routed in arrival order as one by one would — a team's strategy picks for all of them
   * under one lock of its next agents (`FOR UPDATE SKIP LOCKED`, load re-counted after the lock where a cap applies,
   * owner + version), see `AssignmentService.routeOpened` — and the audit entries and
   * outbox events of the whole batch are written with one multi-row INSERT each before the commit.
   */
  private async openedBatch(batch: { item: PayloadOf<typeof ConversationOpenedV1>; within: <R>(fn: () => R) => R }[]): Promise<void> {
    const fresh = batch.filter((b) => !b.item.reopened);
    const plans = new Map<string, Plan>();
    const planned = await this.assignment.planMany(fresh.map((b) => contextOf(b.item)), this.clock.now());
    fresh.forEach((b, i) => plans.set(b.item.eventId, planned[i]));
    await this.ds.transaction((em) =>
      this.outbox.collect(em, () =>
        this.audit.collect(em, async () => {
          const claimed = await claimEvents(em, 'routing', OPENED_DURABLE, batch.map((b) => b.item.eventId));
          const todo = batch.filter((b) => claimed.has(b.item.eventId));
          const created = await this.work.insertOpenedMany(
            em,
            todo.map(({ item: e }) => {
              const plan = plans.get(e.eventId);
              return {
                conversationId: e.conversationId,
                phoneNumberId: e.phoneNumberId,
                contactId: e.contactId,
                openedAt: e.occurredAt,
                teamId: plan?.teamId,
                priority: plan?.priority,
                labels: plan?.labels ? [...new Set(plan.labels)].sort() : undefined,
                skills: plan?.skills,
                context: contextOf(e),
              };
            }),
          );
          const existing = new Map<string, WorkState>();
          const toLock = [...new Set(todo.map((b) => b.item.conversationId).filter((id) => !created.has(id)))].sort();
          for (const id of toLock) {
            const w = await this.work.lock(em, id);
            if (w) existing.set(id, w);
          }
          // then the rows of the teams with a total that routing them may need, before any agent row
          const memo: RouteMemo = { teams: new Map(), bots: new Map() };
          const reopenable = [...existing.values()].filter((w) => w.status === 'resolved' && !w.ownerId);
          await this.assignment.lockTeams(em, [...created.values(), ...reopenable].map((w) => w.teamId), memo);
          const fresh: { w: WorkState; plan: Plan | null; within: <R>(fn: () => R) => R }[] = [];
          for (const { item: e, within } of todo) {
            await within(async () => {
              const row = created.get(e.conversationId);
              if (row) {
                created.delete(e.conversationId); // a second event for the same conversation in this batch finds it existing
                existing.set(e.conversationId, row); // (new and unresolved: routing it below changes nothing a reopen looks at)
                const plan = plans.get(e.eventId) ?? null;
                await recordChange(this.audit, this.outbox, em, {
                  actor: SYSTEM_ACTOR,
                  action: 'conversation.opened',
                  before: null,
                  after: row,
                  note: null,
                  why: { routing: { rule: plan?.rule ?? null, skipped: plan?.skipped ?? [] } },
                });
                fresh.push({ w: row, plan, within });
                return;
              }
              const w = existing.get(e.conversationId);
              // reopen only a conversation resolved before this event happened (an older reopen arriving late is ignored)
              if (!w || w.status !== 'resolved' || !w.resolvedAt || new Date(w.resolvedAt) > new Date(e.occurredAt)) return;
              existing.set(e.conversationId, await this.reopen(em, w, memo));
            });
          }
          // the new conversations' owners are picked together (per team: one lock of its next agents, one update)
          await this.assignment.routeOpened(em, fresh, memo);
        }),
      ),
    );
  }

  /** Back to open (same owner); without an owner the team's strategy picks one. */
  private async reopen(em: EntityManager, w: WorkState, memo?: RouteMemo): Promise<WorkState> {
    const after = await this.work.update(em, w.conversationId, { status: 'open', snoozeUntil: null, resolvedAt: null });
    await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.reopened', before: w, after, note: null });
    if (!after.ownerId) return (await this.assignment.route(em, after, { trigger: 'reopened', memo })).state;
    return after;
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
