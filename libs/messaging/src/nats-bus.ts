import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  ErrorCode,
  Events,
  headers as natsHeaders,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  Msg,
  MsgHdrs,
  NatsConnection,
  NatsError,
  RetentionPolicy,
  StorageType,
  Subscription,
} from 'nats';
import {
  STREAMS,
  deadLetterSubject,
  type EventContract,
  type PayloadOf,
  type RequestContract,
  type RequestInputOf,
  type RequestOf,
  type ResponseOf,
  type StreamSpec,
  type WireReply,
} from '@app/contracts';
import { Bus, type ConsumerOptions, type EventHandler, type PublishOptions, type RequestHandler } from './bus';
import { CORRELATION_HEADER, currentCorrelationId, newCorrelationId, runWithContext } from './context';
import { BusError, isDependencyUnavailable, RemoteError, UpstreamTimeoutError, UpstreamUnavailableError } from './errors';
import { busMetrics } from './metrics';

export interface NatsBusOptions {
  url: string;
  /** Prefix for subjects, streams and durables ('' = none). */
  namespace: string;
  /** Queue group / client name. */
  service: string;
  /** Millisecond bound on connecting at start-up. */
  connectTimeoutMs?: number;
  /** Replicas of each stream on a NATS cluster (default 1). */
  streamReplicas?: number;
}

/** How long one pull waits for messages; also the longest a shutdown waits for a pull to end. */
const FETCH_EXPIRES_MS = 1_000;

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface DeadLetter {
  consumer: string;
  subject: string;
  deliveryCount: number;
  error: string;
  failedAt: string;
  payload: string;
}

export class NatsBus extends Bus {
  readonly transport = 'nats' as const;
  private readonly log = new Logger('Bus');
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private readonly subs: Subscription[] = [];
  /** The fetch loops of this bus's durable consumers; each ends once stopping is set. */
  private readonly consumers: Promise<void>[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private stopping = false;
  /** Acks of handled messages, sent together at the end of this turn of the event loop (`ackSoon`). */
  private acks: JsMsg[] = [];
  /** Told each time the connection is back after a loss (`onReconnect`). */
  private readonly reconnected = new Set<() => void>();

  constructor(readonly opts: NatsBusOptions) {
    super();
  }

  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    const bus = new NatsBus(opts);
    await bus.start();
    return bus;
  }

  async start(): Promise<void> {
    const u = new URL(this.opts.url);
    try {
      this.nc = await connect({
        servers: `${u.hostname}:${u.port || 4222}`,
        name: this.opts.service,
        timeout: this.opts.connectTimeoutMs ?? 5_000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        // no stack captured per request/JetStream publish (two Error objects each, a large share of a publish's
        // CPU in a burst); our errors name the subject and timeout instead
        noAsyncTraces: true,
        user: u.username ? decodeURIComponent(u.username) : undefined,
        pass: u.password ? decodeURIComponent(u.password) : undefined,
      });
    } catch (err) {
      throw new Error(
        `cannot connect to NATS at NATS_URL (${u.hostname}:${u.port || 4222}): ${(err as Error).message}`,
        { cause: err },
      );
    }
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type !== Events.Reconnect) continue;
        for (const fn of this.reconnected) {
          try {
            fn();
          } catch (err) {
            this.log.warn(`reconnect listener failed: ${(err as Error).message}`);
          }
        }
      }
    })().catch(() => undefined);
    this.js = this.nc.jetstream();
    this.jsm = await this.nc.jetstreamManager();
    for (const s of Object.values(STREAMS)) await this.ensureStream(s);
  }

  /** Subject on the wire: the contract's subject under the namespace. */
  subject(subject: string): string {
    return this.opts.namespace ? `${this.opts.namespace}.${subject}` : subject;
  }

  streamName(name: string): string {
    return this.opts.namespace ? `${this.opts.namespace}_${name}` : name;
  }

  private async ensureStream(spec: StreamSpec): Promise<void> {
    const config = {
      name: this.streamName(spec.name),
      subjects: spec.subjects.map((s) => this.subject(s)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: spec.maxAgeMs * 1_000_000,
      duplicate_window: spec.duplicateWindowMs * 1_000_000,
      num_replicas: this.opts.streamReplicas ?? 1,
    };
    try {
      await this.jsm.streams.info(config.name);
      await this.jsm.streams.update(config.name, config);
    } catch (err) {
      if (!(err instanceof NatsError && /not found/i.test(err.message))) throw err;
      try {
        await this.jsm.streams.add(config);
      } catch (e) {
        // another replica created it between our info and add: that is fine
        if (!/already in use/i.test((e as Error).message)) throw e;
      }
    }
  }

  // ---------------------------------------------------------------- request / reply

  async request<C extends RequestContract>(
    contract: C,
    body: RequestInputOf<C>,
    opts: { timeoutMs?: number } = {},
  ): Promise<ResponseOf<C>> {
    const timeout = opts.timeoutMs ?? contract.timeoutMs;
    const subject = this.subject(contract.subject);
    const started = process.hrtime.bigint();
    const h = natsHeaders();
    h.set(CORRELATION_HEADER, currentCorrelationId() ?? newCorrelationId());
    const payload = contract.request.parse(body);
    let outcome = 'ok';
    try {
      if (this.nc.isClosed()) throw new UpstreamUnavailableError(subject, 'message broker connection closed');
      const msg = await this.nc.request(subject, enc.encode(JSON.stringify(payload)), { timeout, headers: h });
      const reply = JSON.parse(dec.decode(msg.data)) as WireReply<unknown>;
      if (!reply.ok) {
        outcome = reply.error.code;
        throw new RemoteError(subject, reply.error);
      }
      return contract.response.parse(reply.data);
    } catch (err) {
      if (err instanceof BusError) throw err;
      if (err instanceof NatsError) {
        if (err.code === ErrorCode.Timeout) {
          outcome = 'timeout';
          throw new UpstreamTimeoutError(subject, timeout, { cause: err });
        }
        if (err.code === ErrorCode.NoResponders) {
          outcome = 'no_responders';
          throw new UpstreamUnavailableError(subject, 'no replica is running', { cause: err });
        }
        outcome = 'unavailable';
        throw new UpstreamUnavailableError(subject, `message broker: ${err.code}`, { cause: err });
      }
      outcome = 'error';
      throw err;
    } finally {
      busMetrics.requests.inc({ subject: contract.subject, outcome });
      busMetrics.requestSeconds.observe(
        { subject: contract.subject },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  }

  async respond<C extends RequestContract>(contract: C, handler: RequestHandler<C>): Promise<void> {
    const sub = this.nc.subscribe(this.subject(contract.subject), { queue: contract.service });
    this.subs.push(sub);
    (async () => {
      for await (const m of sub) {
        const p = this.answer(contract, handler, m);
        this.track(p);
      }
    })().catch((err) => this.log.error(`responder ${contract.subject} stopped: ${err}`));
    await this.nc.flush(); // the server knows the subscription once this returns
  }

  private async answer<C extends RequestContract>(contract: C, handler: RequestHandler<C>, m: Msg): Promise<void> {
    const correlationId = m.headers?.get(CORRELATION_HEADER) || newCorrelationId();
    await runWithContext({ correlationId }, async () => {
      let reply: WireReply<unknown>;
      try {
        const parsed = contract.request.safeParse(JSON.parse(dec.decode(m.data)));
        if (!parsed.success) {
          reply = {
            ok: false,
            error: { code: 'VALIDATION', message: 'invalid request', details: parsed.error.issues },
          };
        } else {
          reply = { ok: true, data: contract.response.parse(await handler(parsed.data)) };
        }
      } catch (err) {
        if (err instanceof BusError) {
          reply = { ok: false, error: err.toWire() };
        } else if (isDependencyUnavailable(err)) {
          this.log.warn(`handler for ${contract.subject}: a dependency is unavailable: ${(err as Error).message}`);
          reply = { ok: false, error: { code: 'UNAVAILABLE', message: `${this.opts.service}: its database is unavailable; retry later` } };
        } else {
          const errorId = randomUUID();
          this.log.error(`handler for ${contract.subject} failed (errorId ${errorId}): ${(err as Error)?.stack ?? err}`);
          reply = { ok: false, error: { code: 'INTERNAL', message: `internal error (errorId ${errorId})` } };
        }
      }
      if (m.reply) m.respond(enc.encode(JSON.stringify(reply)));
    });
  }

  // ---------------------------------------------------------------- JetStream events

  async publish<C extends EventContract>(contract: C, payload: PayloadOf<C>, opts: PublishOptions = {}): Promise<void> {
    const data = (opts.validated ? payload : contract.schema.parse(payload)) as Record<string, unknown>;
    const h = natsHeaders();
    h.set(CORRELATION_HEADER, currentCorrelationId() ?? newCorrelationId());
    const msgID = opts.msgId ?? (typeof data.eventId === 'string' ? data.eventId : undefined);
    try {
      await this.js.publish(this.subject(contract.subject), enc.encode(JSON.stringify(data)), {
        msgID,
        headers: h,
        timeout: opts.timeoutMs ?? 5_000,
      });
    } catch (err) {
      throw new UpstreamUnavailableError(this.subject(contract.subject), `JetStream publish failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    busMetrics.published.inc({ subject: contract.subject });
  }

  async consume<C extends EventContract>(contract: C, opts: ConsumerOptions, handler: EventHandler<C>): Promise<void> {
    const stream = this.streamName(STREAMS[contract.stream].name);
    const durable = this.opts.namespace ? `${this.opts.namespace}_${opts.durable}` : opts.durable;
    const maxDeliver = opts.maxDeliver ?? 5;
    const concurrency = opts.concurrency ?? 1;
    const cfg = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.subject(contract.subject),
      // our runner dead-letters on the maxDeliver-th failure; the server bound is a backstop
      max_deliver: maxDeliver + 2,
      ack_wait: (opts.ackWaitMs ?? 30_000) * 1_000_000,
      max_ack_pending: Math.max(concurrency * 4, 64),
    };
    try {
      await this.jsm.consumers.add(stream, cfg);
    } catch (err) {
      if (!/already exists|already in use/i.test((err as Error).message)) throw err;
      await this.jsm.consumers.update(stream, durable, cfg);
    }
    const consumer = await this.js.consumers.get(stream, durable);
    const slots = new Set<Promise<void>>();
    // Pull in short bounded fetches rather than an endless consume(): on shutdown the current fetch runs out (all
    // its messages arrive, or it expires within FETCH_EXPIRES_MS) and every message not started is nak'ed, so
    // another replica gets it at once. Closing a consume() drops messages already on the wire, which then sit
    // unacknowledged until the ack wait (30 s) runs out.
    const loop = (async () => {
      while (!this.stopping) {
        try {
          const batch = await consumer.fetch({ max_messages: Math.max(concurrency * 2, 16), expires: FETCH_EXPIRES_MS });
          for await (const m of batch) {
            if (this.stopping) {
              m.nak();
              continue;
            }
            const p = this.deliver(contract, opts, durable, maxDeliver, handler, m).finally(() => slots.delete(p));
            slots.add(p);
            this.track(p);
            if (slots.size >= concurrency) await Promise.race(slots);
          }
        } catch (err) {
          if (this.stopping || this.nc.isClosed()) break;
          this.log.warn(`consumer ${durable}: fetch failed, retrying: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })().catch((err) => this.log.error(`consumer ${durable} stopped: ${err}`));
    this.consumers.push(loop);
  }

  private async deliver<C extends EventContract>(
    contract: C,
    opts: ConsumerOptions,
    durable: string,
    maxDeliver: number,
    handler: EventHandler<C>,
    m: JsMsg,
  ): Promise<void> {
    const correlationId = m.headers?.get(CORRELATION_HEADER) || newCorrelationId();
    const deliveryCount = m.info.redeliveryCount;
    const raw = dec.decode(m.data);
    // the message's own subject (differs from contract.subject only for a wildcard contract such as `inbox.>`)
    const subject = this.opts.namespace && m.subject.startsWith(`${this.opts.namespace}.`) ? m.subject.slice(this.opts.namespace.length + 1) : m.subject;
    await runWithContext({ correlationId }, async () => {
      let payload: unknown;
      try {
        payload = contract.schema.parse(JSON.parse(raw));
      } catch (err) {
        // a malformed event will never succeed: dead-letter it at once
        await this.deadLetter(subject, durable, deliveryCount, `invalid payload: ${(err as Error).message}`, raw, m.headers);
        m.term();
        return;
      }
      try {
        await handler(payload as PayloadOf<C>, {
          subject,
          streamSeq: m.seq,
          deliveryCount,
          msgId: m.headers?.get('Nats-Msg-Id') || undefined,
          correlationId,
        });
        this.ackSoon(m);
        busMetrics.handled.inc({ durable: opts.durable, subject: contract.subject, outcome: 'ok' });
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        if (deliveryCount >= maxDeliver) {
          this.log.warn(`${durable}: ${contract.subject} failed ${deliveryCount} times, dead-lettering: ${message}`);
          await this.deadLetter(subject, durable, deliveryCount, message, raw, m.headers);
          m.term();
          busMetrics.handled.inc({ durable: opts.durable, subject: contract.subject, outcome: 'dead_lettered' });
        } else {
          const base = opts.backoffMs ?? 500;
          const delay = Math.min(base * 2 ** (deliveryCount - 1), opts.maxBackoffMs ?? 30_000);
          this.log.warn(`${durable}: ${contract.subject} failed (delivery ${deliveryCount}), retry in ${delay} ms: ${message}`);
          m.nak(delay);
          busMetrics.handled.inc({ durable: opts.durable, subject: contract.subject, outcome: 'retried' });
        }
      }
    });
  }

  private async deadLetter(
    subject: string,
    durable: string,
    deliveryCount: number,
    error: string,
    payload: string,
    hdrs?: MsgHdrs,
  ): Promise<void> {
    const letter: DeadLetter = { consumer: durable, subject, deliveryCount, error, failedAt: new Date().toISOString(), payload };
    const h = natsHeaders();
    h.set(CORRELATION_HEADER, hdrs?.get(CORRELATION_HEADER) || newCorrelationId());
    await this.js.publish(this.subject(deadLetterSubject(subject)), enc.encode(JSON.stringify(letter)), { headers: h });
    busMetrics.deadLettered.inc({ durable, subject });
  }

  /** Read dead letters of one subject (ops tooling and tests). */
  async readDeadLetters(subject: string, max = 100): Promise<DeadLetter[]> {
    const stream = this.streamName(STREAMS.DLQ.name);
    const name = `dlq-reader-${randomUUID()}`;
    await this.jsm.consumers.add(stream, {
      name,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.subject(deadLetterSubject(subject)),
      inactive_threshold: 10_000 * 1_000_000,
    });
    const consumer = await this.js.consumers.get(stream, name);
    const out: DeadLetter[] = [];
    const batch = await consumer.fetch({ max_messages: max, expires: 1_000 });
    for await (const m of batch) out.push(JSON.parse(dec.decode(m.data)) as DeadLetter);
    await this.jsm.consumers.delete(stream, name).catch(() => undefined);
    return out;
  }

  /**
   * Acks the message once the current turn of the event loop ends, with every other ack of that turn: they leave in
   * one socket write instead of one each (a burst acks thousands of deliveries a second on every consumer). An ack
   * is only the broker's receipt, so a moment later changes nothing: a crash before it means redelivery, as before.
   */
  private ackSoon(m: JsMsg): void {
    if (this.acks.push(m) === 1) setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    const acks = this.acks;
    this.acks = [];
    for (const m of acks) m.ack();
  }

  // ---------------------------------------------------------------- lifecycle

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    p.finally(() => this.inflight.delete(p)).catch(() => undefined);
  }

  async isHealthy(): Promise<boolean> {
    if (!this.nc || this.nc.isClosed()) return false;
    try {
      await this.nc.rtt();
      return true;
    } catch {
      return false;
    }
  }

  async stopConsumers(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.consumers.splice(0));
    // drain, not unsubscribe: requests already delivered to this replica are still answered; new ones go to others
    await Promise.allSettled(this.subs.splice(0).map((s) => s.drain()));
    await Promise.allSettled([...this.inflight]);
    this.flushAcks();
  }

  async close(): Promise<void> {
    await this.stopConsumers();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  /** Tests: remove this namespace's streams (and their consumers). */
  async deleteNamespaceStreams(): Promise<void> {
    if (!this.opts.namespace) throw new Error('refusing to delete streams without a namespace');
    for (const s of Object.values(STREAMS)) await this.jsm.streams.delete(this.streamName(s.name)).catch(() => undefined);
  }

  /**
   * Calls `fn` each time the connection to NATS is re-established after a loss: core NATS messages (broadcasts) sent
   * while it was down, or in flight when it dropped, were lost. Returns the function that stops it.
   */
  onReconnect(fn: () => void): () => void {
    this.reconnected.add(fn);
    return () => void this.reconnected.delete(fn);
  }

  get connection(): NatsConnection {
    return this.nc;
  }
}
