import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConversationWorkChangedV1, MessageReceivedV1, OutboundQueuedV1, type PayloadOf } from '@app/contracts';
import { Bus, DomainError } from '@app/messaging';
import { claimEvent } from '@app/persistence';
import { Clock } from '../clock/clock';
import { ClocksService } from '../clocks/clocks.service';
import { SLA_CONFIG, type SlaConfig } from '../config';
import { EscalationWriter } from '../timers/escalation.writer';
import { TimerRepository } from '../timers/timer.repository';

/** A clock event about a conversation sla has never seen (it keeps failing and ends in the dead-letter stream). */
export class UnknownConversationError extends DomainError {
  constructor(id: string) {
    super('NOT_FOUND', `unknown conversation ${id}: no message or work state for it reached sla`);
  }
}

const DURABLE = { message: 'sla-clocks-on-message', reply: 'sla-clocks-on-reply', work: 'sla-clocks-on-work' } as const;

/**
 * Inputs of the clocks, each a durable consumer idempotent by event id (processed_event in the same
 * transaction as the effect): a customer message starts clocks and the window (from its WhatsApp time); a reply by
 * a person meets the response clocks; the work state (team, priority, owner, status) picks the policy, pauses and
 * resolves. A reply meets the clocks at its `occurredAt` (never later than sla's clock, never before the wait it
 * answers), so a backlog applied after downtime keeps a reply sent in time `met`; work changes (pause, resolve) take
 * effect at sla's clock when applied.
 */
@Injectable()
export class ClockEventsHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly clocks: ClocksService,
    private readonly timers: TimerRepository,
    private readonly writer: EscalationWriter,
    private readonly clock: Clock,
    @Inject(SLA_CONFIG) private readonly cfg: SlaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const opts = (durable: string) => ({ durable, concurrency: 8, maxDeliver: this.cfg.SLA_EVENT_MAX_DELIVER, backoffMs: this.cfg.SLA_EVENT_BACKOFF_MS });
    await this.bus.consume(MessageReceivedV1, opts(DURABLE.message), (e) => this.message(e));
    await this.bus.consume(OutboundQueuedV1, opts(DURABLE.reply), (e) => this.reply(e));
    await this.bus.consume(ConversationWorkChangedV1, opts(DURABLE.work), (e) => this.work(e));
  }

  async message(e: PayloadOf<typeof MessageReceivedV1>): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'sla', DURABLE.message, e.eventId))) return;
      const c = await this.clocks.ensureConversation(em, e.conversationId, e);
      if (e.direction === 'inbound' && e.origin === 'customer') await this.clocks.customerWrote(em, c, new Date(e.sentAt));
    });
  }

  async reply(e: PayloadOf<typeof OutboundQueuedV1>): Promise<void> {
    if (!e.conversationId || !e.senderId) return; // system sends (follow-up templates) answer nobody
    const id = e.conversationId;
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'sla', DURABLE.reply, e.eventId))) return;
      const c = await this.clocks.lockConversation(em, id);
      if (!c) throw new UnknownConversationError(id);
      // a reply is never dated before the wait it answers (clocks of the services differ; its met time stays ≥ start)
      const since = c.awaiting_since ?? c.cycle_start_at;
      const at = this.eventTime(e.occurredAt);
      await this.clocks.personReplied(em, c, since && at < since ? since : at);
      // a reminder on a conversation answered meanwhile is no longer needed (one set after the reply stays)
      await this.cancelReminders(em, id, 'answered', new Date(e.occurredAt));
    });
  }

  async work(e: PayloadOf<typeof ConversationWorkChangedV1>): Promise<void> {
    const s = e.state;
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'sla', DURABLE.work, e.eventId))) return;
      const c = await this.clocks.ensureConversation(em, s.conversationId, s);
      if (c.routing_version >= s.version) return; // an older state arriving late
      const at = this.clock.now();
      const wasPaused = c.status === 'pending' || c.status === 'snoozed';
      const isPaused = s.status === 'pending' || s.status === 'snoozed';
      await this.clocks.update(em, s.conversationId, {
        team_id: s.teamId,
        owner_id: s.ownerId,
        status: s.status,
        priority: s.priority,
        routing_version: s.version,
        pending_since: isPaused ? (wasPaused ? c.pending_since : at) : null,
      });
      if (s.status === 'resolved' && c.status !== 'resolved') {
        await this.clocks.resolved(em, c, at, s.resolvedAt ? new Date(s.resolvedAt) : null);
        await this.cancelReminders(em, s.conversationId, 'resolved', new Date(e.occurredAt));
        return;
      }
      if (s.status === 'pending' && c.status !== 'pending') await this.scheduleFollowUps(em, s.conversationId, s.teamId, at);
      if (s.status !== 'pending') await this.timers.cancel(em, s.conversationId, ['follow-up']);
      if (e.action === 'conversation.snooze-ended' && s.ownerId)
        await this.writer.notice(
          em,
          { kind: 'snooze.woke', conversationId: s.conversationId, userIds: [s.ownerId], title: 'A snoozed conversation is open again' },
          at,
        );
      await this.clocks.sync(em, s.conversationId, at);
    });
  }

  /** When an event happened, bounded by sla's clock (a sender's clock ahead of ours never dates an effect in the future). */
  private eventTime(occurredAt: string): Date {
    const now = this.clock.now();
    const at = new Date(occurredAt);
    return Number.isNaN(at.getTime()) || at > now ? now : at;
  }

  private async scheduleFollowUps(em: import('typeorm').EntityManager, conversationId: string, teamId: string | null, at: Date): Promise<void> {
    if (!teamId) return;
    const rules: { id: string; after_minutes: number }[] = await em.query(`SELECT id, after_minutes FROM sla.follow_up_rule WHERE team_id = $1`, [teamId]);
    for (const r of rules) await this.timers.schedule(em, 'follow-up', conversationId, r.id, new Date(at.getTime() + r.after_minutes * 60_000));
  }

  /** Pending reminders set before `before` (the reply/resolve; its event may be handled after a newer reminder). */
  private async cancelReminders(em: import('typeorm').EntityManager, conversationId: string, reason: string, before: Date): Promise<void> {
    const rows: { id: string }[] = await em.query(
      `UPDATE sla.reminder SET state = 'cancelled', cancelled_reason = $2
       WHERE conversation_id = $1 AND state = 'pending' AND created_at < $3 RETURNING id`,
      [conversationId, reason, before],
    );
    const ids = (Array.isArray(rows[0]) ? rows[0] : rows) as { id: string }[];
    for (const r of ids) await this.timers.cancel(em, conversationId, ['reminder'], r.id);
  }
}
