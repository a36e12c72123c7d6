import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { AutomationEvent, AutomationRule } from '@app/contracts';
import { streamFeedOf, type Bus, type BroadcastContract, type StreamFeed } from '@app/messaging';

/** Between routing replicas only (core NATS / the embedded hub, never stored): the automation rules changed. */
export const AutomationRulesChangedPushV1 = {
  subject: 'push.routing.automation-rules-changed.v1',
  schema: z.object({ at: z.string() }),
} satisfies BroadcastContract;

/** What running a rule needs (not its counters: they change on every run). */
export type RunnableRule = Pick<AutomationRule, 'id' | 'name' | 'event' | 'conditions' | 'actions'>;

/**
 * The enabled automation rules by trigger, kept per replica: in an assignment burst every conversation brings an
 * opened and two work-changed deliveries, and an event whose trigger no enabled rule has now costs no SQL.
 *
 * As fresh as reading them per event: a rule write (on any replica) calls `changed()` after its commit and before
 * its answer goes out; that drops this replica's copy at once and broadcasts to the others on the same connection
 * ahead of the answer, so the broker hands every replica the broadcast before any event someone causes after the
 * write. A load that overlaps a change is used once and not kept (generation count). Backstop for a broadcast lost
 * in a broker reconnect: a copy older than `maxAgeMs` is reloaded.
 */
export class AutomationRulesCache {
  private readonly log = new Logger('AutomationRulesCache');
  private byEvent?: Map<AutomationEvent, RunnableRule[]>;
  private loadedAt = 0;
  private generation = 0;
  private loading?: Promise<Map<AutomationEvent, RunnableRule[]>>;
  private feed?: StreamFeed;
  private unsubscribe?: () => void;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: Bus,
    readonly maxAgeMs = 30_000,
  ) {}

  /** Listens for other replicas' changes; until then (or on a bus without broadcasts) nothing is kept. */
  async start(): Promise<void> {
    try {
      this.feed = streamFeedOf(this.bus);
    } catch (err) {
      this.log.warn(`rules are read per event: ${(err as Error).message}`);
      return;
    }
    this.unsubscribe = await this.feed.onBroadcast(AutomationRulesChangedPushV1, () => this.drop());
    this.drop();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The enabled rules with this trigger, in order (position, id). */
  async rulesFor(event: AutomationEvent): Promise<RunnableRule[]> {
    const fresh = this.byEvent && Date.now() - this.loadedAt < this.maxAgeMs;
    return ((fresh ? this.byEvent : await this.load())!.get(event) ?? []);
  }

  /** After a committed rule write here: this replica's next event reads them again, and so will the others'. */
  changed(): void {
    this.drop();
    this.feed?.broadcast(AutomationRulesChangedPushV1, { at: new Date().toISOString() });
  }

  private drop(): void {
    this.generation++;
    this.byEvent = undefined;
    this.loading = undefined;
  }

  private load(): Promise<Map<AutomationEvent, RunnableRule[]>> {
    if (this.loading) return this.loading;
    const generation = this.generation;
    const started = Date.now();
    const loading = (async () => {
      const rows: RunnableRule[] = await this.ds.query(`SELECT id, name, event, conditions, actions FROM routing.automation_rule WHERE enabled ORDER BY position, id`);
      const byEvent = new Map<AutomationEvent, RunnableRule[]>();
      for (const rule of rows) byEvent.set(rule.event, [...(byEvent.get(rule.event) ?? []), rule]);
      // kept only when no change came in meanwhile and other replicas' changes reach us
      if (generation === this.generation && this.unsubscribe) {
        this.byEvent = byEvent;
        this.loadedAt = started;
      }
      return byEvent;
    })().finally(() => {
      if (this.loading === loading) this.loading = undefined;
    });
    this.loading = loading;
    return loading;
  }
}
