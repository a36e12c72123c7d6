import type { EventContract, PayloadOf, RequestContract, RequestInputOf, RequestOf, ResponseOf } from '@app/contracts';

export interface EventMeta {
  /** The message's subject without namespace (the contract's, or the concrete one under a wildcard contract). */
  subject: string;
  /** The message's sequence in its stream (increasing in publish order). */
  streamSeq?: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** The message id used for broker-side deduplication, when one was given. */
  msgId?: string;
  correlationId?: string;
}

export interface ConsumerOptions {
  /** Durable consumer name, `<service>-<handler>`. Stable: renaming it replays the stream. */
  durable: string;
  /** Deliveries before the message is dead-lettered (first delivery included). */
  maxDeliver?: number;
  /** Delay before the first redelivery; doubles each time up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Handlers run in parallel on this many messages. */
  concurrency?: number;
  /** How long a delivery may take before the broker redelivers it. */
  ackWaitMs?: number;
}

export type EventHandler<C extends EventContract> = (payload: PayloadOf<C>, meta: EventMeta) => Promise<void>;
export type RequestHandler<C extends RequestContract> = (body: RequestOf<C>) => Promise<ResponseOf<C>>;

export interface PublishOptions {
  /** Broker deduplication id (defaults to payload.eventId when present). */
  msgId?: string;
  timeoutMs?: number;
  /** The payload was parsed by this contract already (the outbox relay: rows were validated when written). */
  validated?: boolean;
}

/**
 * The one messaging interface every service uses. Implemented over NATS/JetStream (NatsBus) and in-process for the
 * single-machine mode (EmbeddedBus) with the same semantics (timeouts, at-least-once, DLQ).
 */
export abstract class Bus {
  /** What carries the messages: named in health checks (`nats`, or `bus` in-process). */
  abstract readonly transport: 'nats' | 'embedded';
  abstract request<C extends RequestContract>(
    contract: C,
    body: RequestInputOf<C>,
    opts?: { timeoutMs?: number },
  ): Promise<ResponseOf<C>>;
  abstract respond<C extends RequestContract>(contract: C, handler: RequestHandler<C>): Promise<void>;
  abstract publish<C extends EventContract>(contract: C, payload: PayloadOf<C>, opts?: PublishOptions): Promise<void>;
  abstract consume<C extends EventContract>(contract: C, opts: ConsumerOptions, handler: EventHandler<C>): Promise<void>;
  abstract isHealthy(): Promise<boolean>;
  /** Stop pulling new messages and wait for in-flight handlers. */
  abstract stopConsumers(): Promise<void>;
  abstract close(): Promise<void>;
}

export const BUS_OPTIONS = Symbol('BUS_OPTIONS');
