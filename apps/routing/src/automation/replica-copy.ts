import { Logger } from '@nestjs/common';
import { RoutingCopyChangedPushV1 } from '@app/contracts';
import { streamFeedOf, type Bus, type StreamFeed } from '@app/messaging';

/**
 * A replica's in-memory copy of settings that events read often and people change rarely (automation rules,
 * greeting/away replies), as fresh as reading them per event.
 *
 * A write (on any replica) calls `changed()` after its commit and before its answer goes out: that drops this
 * replica's copy at once and broadcasts to the others on the same broker connection ahead of the answer. On one
 * NATS server (and the embedded hub) every replica gets the broadcast before any event someone causes after the
 * write; in a NATS cluster the broadcast and a later event may reach a replica by different servers, so the copy
 * there can be stale for the moment the broadcast takes to arrive. A read that overlaps a change is used once and
 * not kept (generation count). A broadcast lost in a broker reconnect: each replica drops its copy when its
 * connection is back, and, as a backstop, a copy older than `maxAgeMs` is read again.
 */
export class ReplicaCopy<T> {
  private readonly log = new Logger('ReplicaCopy');
  private value?: T;
  private readAt = 0;
  private generation = 0;
  private reading?: Promise<T>;
  private feed?: StreamFeed;
  private unsubscribe?: () => void;
  private offReconnect?: () => void;

  constructor(
    readonly name: string,
    private readonly bus: Bus,
    private readonly read: () => Promise<T>,
    readonly maxAgeMs = 30_000,
  ) {}

  /** Listens for the other replicas' changes; until then (or on a bus without broadcasts) nothing is kept. */
  async start(): Promise<void> {
    try {
      this.feed = streamFeedOf(this.bus);
    } catch (err) {
      this.log.warn(`${this.name} is read per use: ${(err as Error).message}`);
      return;
    }
    this.unsubscribe = await this.feed.onBroadcast(RoutingCopyChangedPushV1, (p) => {
      if ((p as { copy?: string } | undefined)?.copy === this.name) this.drop();
    });
    // broadcasts sent while the connection was down are lost: read again
    this.offReconnect = this.feed.onReconnect?.(() => this.drop());
    this.drop();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.offReconnect?.();
    this.offReconnect = undefined;
  }

  get(): Promise<T> {
    if (this.value !== undefined && Date.now() - this.readAt < this.maxAgeMs) return Promise.resolve(this.value);
    return (this.reading ??= this.load());
  }

  /** After a committed write here: this replica's next use reads again; the others' do once the broadcast arrives. */
  changed(): void {
    this.drop();
    this.feed?.broadcast(RoutingCopyChangedPushV1, { copy: this.name });
  }

  private drop(): void {
    this.generation++;
    this.value = undefined;
    this.reading = undefined;
  }

  private async load(): Promise<T> {
    const generation = this.generation;
    const started = Date.now();
    try {
      const value = await this.read();
      // kept only when no change came in meanwhile and the other replicas' changes reach us
      if (generation === this.generation && this.unsubscribe) {
        this.value = value;
        this.readAt = started;
      }
      return value;
    } finally {
      if (generation === this.generation) this.reading = undefined;
    }
  }
}
