import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import {
  GetConversationV1,
  GetWorkV1,
  PRIORITIES,
  RequeueV1,
  SendMessageV1,
  SetPriorityV1,
  SetStatusV1,
  SLA_ACTOR,
} from '@app/contracts';
import { Bus } from '@app/messaging';
import { INSTANCE_ID } from '@app/platform';
import { Clock } from '../clock/clock';
import { SLA_CONFIG, type SlaConfig } from '../config';
import { TimerFireService } from './timer-fire.service';
import { TimerRepository, type TimerRow } from './timer.repository';

const ACTION_MAX_ATTEMPTS = 8;
/** How long a claimed action is left to its replica (longer than all its calls' timeouts together). */
const ACTION_LEASE_MS = 60_000;

/**
 * Every replica polls the timer table (driven by @nestjs/schedule's interval registry; no state is held here).
 * Due rows are claimed with FOR UPDATE SKIP LOCKED and fired in the claiming transaction, so each fires exactly
 * once; a replica that dies mid-batch rolls back and its rows are claimed by another. Actions (calls to routing
 * and notifications) run one per transaction, are idempotent on the far side, and are retried with backoff.
 */
@Injectable()
export class TimerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('TimerWorker');
  private running?: Promise<unknown>;
  private stopped = false;
  /** After a failed batch, the next pass goes timer by timer. */
  private careful = false;
  /** Tests: called before each timer fires, inside its transaction (to stop a replica mid-batch). */
  beforeFire?: (t: TimerRow, em: import('typeorm').EntityManager) => Promise<void>;

  constructor(
    private readonly ds: DataSource,
    private readonly timers: TimerRepository,
    private readonly fire: TimerFireService,
    private readonly clock: Clock,
    @Inject(Bus) private readonly bus: Bus,
    private readonly scheduler: SchedulerRegistry,
    @Inject(SLA_CONFIG) private readonly cfg: SlaConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.cfg.SLA_TIMER_POLL_MS) return;
    const interval = setInterval(() => this.tick(), this.cfg.SLA_TIMER_POLL_MS);
    interval.unref();
    this.scheduler.addInterval('sla-timers', interval);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', 'sla-timers')) this.scheduler.deleteInterval('sla-timers');
    await this.running;
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain()
      .catch((err) => this.log.warn(`timer pass failed, will retry: ${(err as Error).message}`))
      .finally(() => (this.running = undefined));
  }

  /** Fires everything due now (batch after batch), then due actions. Returns how many timers fired. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n < this.cfg.SLA_TIMER_BATCH || this.stopped) break;
    }
    for (let i = 0; i < 50 && !this.stopped && (await this.runAction()); i++);
    return total;
  }

  /**
   * One batch in one transaction. Fast path: every timer of the batch fires without savepoints; if one fails, the
   * batch rolls back and the next pass fires it timer by timer (a savepoint each), marking the bad one failed.
   */
  async runOnce(): Promise<number> {
    const careful = this.careful;
    this.careful = false;
    const now = this.clock.now();
    try {
      return await this.ds.transaction(async (em) => {
        const due = await this.timers.claimDue(em, now, careful ? 50 : this.cfg.SLA_TIMER_BATCH, INSTANCE_ID, this.cfg.SLA_TIMER_LATE_MS);
        const reminders: TimerRow[] = [];
        for (const t of due) {
          if (this.beforeFire) await this.beforeFire(t, em);
          if (!careful) {
            // reminders of the batch fire together (their effects do not depend on each other)
            if (t.kind === 'reminder') reminders.push(t);
            else await this.fire.fire(em, t, now);
            continue;
          }
          await em.query('SAVEPOINT fire');
          try {
            await this.fire.fire(em, t, now);
            await em.query('RELEASE SAVEPOINT fire');
          } catch (err) {
            // one bad timer must not block the rest: it is marked failed with the reason, the batch goes on
            await em.query('ROLLBACK TO SAVEPOINT fire');
            this.log.warn(`timer ${t.id} (${t.kind}) failed: ${(err as Error).message}`);
            await em.query(`UPDATE sla.timer SET status = 'failed', last_error = $2 WHERE id = $1`, [t.id, (err as Error).message.slice(0, 500)]);
          }
        }
        await this.fire.reminders(em, reminders, now);
        return due.length;
      });
    } catch (err) {
      if (!careful) this.careful = true;
      throw err;
    }
  }

  /**
   * One due action; false when none is due. The action is claimed with a lease (its due time moved past the calls'
   * timeouts) in a short transaction, and the calls to other services run outside any transaction: on a
   * single-backend database (PGlite in single-machine mode) an open transaction holds every other service's
   * queries, so the called service could never answer. A replica that dies mid-call leaves the lease to expire
   * and another replica repeats the (idempotent) action.
   */
  async runAction(): Promise<boolean> {
    const now = this.clock.now();
    const a = await this.ds.transaction(async (em) => {
      const row = await this.timers.claimAction(em, now);
      if (row) await this.timers.lease(em, row.id, new Date(now.getTime() + ACTION_LEASE_MS));
      return row;
    });
    if (!a) return false;
    try {
      await this.act(a);
      const late = a.due_at.getTime() < now.getTime() - this.cfg.SLA_TIMER_LATE_MS;
      await this.timers.finish(this.ds.manager, a.id, now, INSTANCE_ID, this.cfg.SLA_TIMER_LATE_MS, late);
    } catch (err) {
      const delay = Math.min(1_000 * 2 ** a.attempts, 300_000);
      this.log.warn(`action ${a.ref} on ${a.conversation_id} failed (attempt ${a.attempts + 1}): ${(err as Error).message}`);
      await this.timers.retryLater(this.ds.manager, a.id, new Date(now.getTime() + delay), (err as Error).message, ACTION_MAX_ATTEMPTS);
    }
    return true;
  }

  private async act(a: TimerRow): Promise<void> {
    const p = a.payload ?? {};
    const conversationId = a.conversation_id;
    if (p.type === 'requeue') {
      await this.bus.request(RequeueV1, { actor: SLA_ACTOR, conversationId, reason: p.reason });
      return;
    }
    const w = await this.bus.request(GetWorkV1, { actor: SLA_ACTOR, conversationId });
    if (p.type === 'raise-priority') {
      // only ever raised: a conversation already at or above the level is left alone
      if (PRIORITIES.indexOf(w.priority) >= PRIORITIES.indexOf(p.priority)) return;
      await this.bus.request(SetPriorityV1, { actor: SLA_ACTOR, conversationId, version: w.version, priority: p.priority });
    } else if (p.type === 'send-template') {
      if (w.status === 'resolved') return;
      const conv = await this.bus.request(GetConversationV1, { conversationId });
      const to = conv.contact.waId ?? conv.contact.userId;
      if (!to) throw new Error('the contact has no WhatsApp id');
      const t = p.template as { name: string; language: string; bodyParameters: string[] };
      await this.bus.request(SendMessageV1, {
        idempotencyKey: `sla-follow-up:${a.id}`,
        phoneNumberId: conv.phoneNumberId,
        to,
        conversationId,
        senderId: null,
        senderName: 'SLA follow-up',
        message: {
          type: 'template',
          name: t.name,
          language: t.language,
          components: t.bodyParameters.length ? [{ type: 'body', parameters: t.bodyParameters.map((text) => ({ type: 'text', text })) }] : undefined,
        },
      });
      if (w.status !== 'pending')
        await this.bus.request(SetStatusV1, { actor: SLA_ACTOR, conversationId, version: w.version, status: 'pending' });
    }
  }
}
