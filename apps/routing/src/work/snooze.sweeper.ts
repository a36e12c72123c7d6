import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OutboxWriter } from '@app/persistence';
import { ROUTING_CONFIG, type RoutingConfig } from '../config';
import { recordChange, SYSTEM_ACTOR } from './record-change';
import { AuditRepository, WorkRepository } from './work.repository';

/**
 * Reopens snoozed conversations whose snooze time has passed (status open, version + 1, one audit entry, events).
 * Rows are claimed with SKIP LOCKED, so several routing replicas share the work and never wake one twice.
 */
@Injectable()
export class SnoozeSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('SnoozeSweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly outbox: OutboxWriter,
    @Inject(ROUTING_CONFIG) private readonly cfg: RoutingConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err) => this.log.warn(`snooze sweep failed, will retry: ${(err as Error).message}`))
        .finally(() => (this.running = undefined));
    }, this.cfg.SNOOZE_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many conversations were woken. */
  async sweep(limit = 100): Promise<number> {
    return this.ds.transaction(async (em) => {
      const due: { conversation_id: string }[] = await em.query(
        `SELECT conversation_id FROM routing.conversation_work
         WHERE status = 'snoozed' AND snooze_until <= clock_timestamp()
         ORDER BY snooze_until LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      for (const { conversation_id } of due) {
        const before = (await this.work.lock(em, conversation_id))!;
        const after = await this.work.update(em, conversation_id, { status: 'open', snoozeUntil: null });
        await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.snooze-ended', before, after, note: null });
      }
      return due.length;
    });
  }
}
