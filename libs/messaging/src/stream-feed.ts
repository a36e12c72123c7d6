import { DeliverPolicy, type ConsumerMessages, type Subscription } from 'nats';
import { STREAMS, type StreamName } from '@app/contracts';
import type { Bus } from './bus';
import { NatsBus } from './nats-bus';

/** One stored event as a reader of a stream sees it. */
export interface StreamEntry {
  /** Its sequence in the stream (increasing in publish order; there may be gaps). */
  seq: number;
  /** The subject without namespace. */
  subject: string;
  /** The parsed JSON payload (undefined when it was not JSON). */
  data: unknown;
}

export interface StreamTail {
  stop(): Promise<void>;
}

/** Fire-and-forget messages between processes, never stored (presence). */
export interface BroadcastContract {
  subject: string;
  schema: { parse(v: unknown): unknown };
}

/**
 * Reading a stream without a durable consumer (the gateway's real-time feed: live from "now", plus replay of a
 * range for a client that reconnects with `?since=`) and ephemeral broadcasts. Implemented over JetStream
 * ordered consumers and core NATS, and by the embedded bus over its event log.
 */
export interface StreamFeed {
  lastSequence(stream: StreamName): Promise<number>;
  /** Calls `onEntry` for every entry with seq > afterSeq, in order, as they arrive, until stopped. */
  tail(stream: StreamName, afterSeq: number, onEntry: (e: StreamEntry) => Promise<void>): Promise<StreamTail>;
  /** Entries with since < seq ≤ upTo, oldest first (fewer when retention trimmed them). */
  readRange(stream: StreamName, since: number, upTo: number, each: (e: StreamEntry) => Promise<void>): Promise<void>;
  broadcast(contract: BroadcastContract, payload: unknown): void;
  onBroadcast(contract: BroadcastContract, handler: (payload: unknown) => void): Promise<() => void>;
  /** Over a broker that can lose broadcasts in a reconnect: `fn` after each reconnect; returns the remover. */
  onReconnect?(fn: () => void): () => void;
}

export function hasStreamFeed(bus: Bus): bus is Bus & { feed: StreamFeed } {
  return typeof (bus as { feed?: unknown }).feed === 'object';
}

/** The stream feed of a bus: the embedded bus has its own; over NATS it reads JetStream. */
export function streamFeedOf(bus: Bus): StreamFeed {
  if (hasStreamFeed(bus)) return bus.feed;
  if (bus instanceof NatsBus) return new NatsStreamFeed(bus);
  throw new Error('this bus cannot read streams');
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export class NatsStreamFeed implements StreamFeed {
  constructor(private readonly bus: NatsBus) {}

  private strip(subject: string): string {
    const ns = this.bus.opts.namespace;
    return ns && subject.startsWith(`${ns}.`) ? subject.slice(ns.length + 1) : subject;
  }

  async lastSequence(stream: StreamName): Promise<number> {
    const jsm = await this.bus.connection.jetstreamManager();
    return (await jsm.streams.info(this.bus.streamName(STREAMS[stream].name))).state.last_seq;
  }

  async tail(stream: StreamName, afterSeq: number, onEntry: (e: StreamEntry) => Promise<void>): Promise<StreamTail> {
    const js = this.bus.connection.jetstream();
    const consumer = await js.consumers.get(this.bus.streamName(STREAMS[stream].name), {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
    });
    const live: ConsumerMessages = await consumer.consume();
    const done = (async () => {
      for await (const m of live) await onEntry({ seq: m.seq, subject: this.strip(m.subject), data: parseJson(dec.decode(m.data)) });
    })();
    return {
      stop: async () => {
        await live.close();
        await done.catch(() => undefined);
      },
    };
  }

  async readRange(stream: StreamName, since: number, upTo: number, each: (e: StreamEntry) => Promise<void>): Promise<void> {
    if (upTo <= since) return;
    const js = this.bus.connection.jetstream();
    const c = await js.consumers.get(this.bus.streamName(STREAMS[stream].name), {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: since + 1,
    });
    let seq = since;
    while (seq < upTo) {
      const batch = await c.fetch({ max_messages: 200, expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        seq = m.seq;
        if (seq > upTo) break;
        await each({ seq, subject: this.strip(m.subject), data: parseJson(dec.decode(m.data)) });
      }
      if (got === 0) break; // the range was trimmed by retention: nothing more to give
    }
  }

  broadcast(contract: BroadcastContract, payload: unknown): void {
    this.bus.connection.publish(this.bus.subject(contract.subject), enc.encode(JSON.stringify(contract.schema.parse(payload))));
  }

  async onBroadcast(contract: BroadcastContract, handler: (payload: unknown) => void): Promise<() => void> {
    const sub: Subscription = this.bus.connection.subscribe(this.bus.subject(contract.subject));
    void (async () => {
      for await (const m of sub) handler(parseJson(dec.decode(m.data)));
    })().catch(() => undefined);
    await this.bus.connection.flush();
    return () => sub.unsubscribe();
  }

  onReconnect(fn: () => void): () => void {
    return this.bus.onReconnect(fn);
  }
}
