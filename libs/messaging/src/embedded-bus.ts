import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Pool, type PoolClient } from 'pg';
import {
  STREAMS,
  deadLetterSubject,
  type EventContract,
  type PayloadOf,
  type RequestContract,
  type RequestInputOf,
  type ResponseOf,
  type StreamName,
  type WireReply,
} from '@app/contracts';
import { Bus, type ConsumerOptions, type EventHandler, type EventMeta, type PublishOptions, type RequestHandler } from './bus';
import { currentCorrelationId, newCorrelationId, runWithContext } from './context';
import { BusError, RemoteError, UpstreamTimeoutError, UpstreamUnavailableError } from './errors';
import { busMetrics } from './metrics';
import type { DeadLetter } from './nats-bus';
import { answerRequest } from './reply';
import type { BroadcastContract, StreamEntry, StreamFeed, StreamTail } from './stream-feed';

export interface EmbeddedBusOptions {
  /** The database that keeps the event log and consumer positions (the embedded PGlite in single-machine mode). */
  databaseUrl: string;
  /** Prefix of the bus's schema (`<namespace>_bus`), so tests and installs can share one database. */
  namespace: string;
  service: string;
}

type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/** The hub looks for events it was not told about (none, in one process) and tails re-read at least this often. */
const IDLE_POLL_MS = 5_000;
const PRUNE_EVERY_MS = 3600_000;
/** Events a consumer holds in memory (leased, waiting for a free handler slot) at most. */
const QUEUE_CAP = 256;
/** How often deliveries running past their ack wait are looked for. */
const ACK_WAIT_SWEEP_MS = 1_000;

/** NATS subject filter (`*` one token, `>` the rest) → a PostgreSQL regular expression. */
export function subjectRegex(filter: string): string {
  const tokens = filter.split('.').map((t) => (t === '*' ? '[^.]+' : t === '>' ? '.+' : t.replace(/[^A-Za-z0-9_-]/g, '\\$&')));
  return `^${tokens.join('\\.')}$`;
}

/** The stream whose subjects capture `subject`. */
export function streamOfSubject(subject: string): StreamName | undefined {
  return Object.values(STREAMS).find((spec) => spec.subjects.some((f) => new RegExp(subjectRegex(f)).test(subject)))?.name;
}

interface Responder {
  owner: EmbeddedBus;
  answer(raw: string, correlationId: string): Promise<WireReply<unknown>>;
}

/**
 * What every service in one process shares: the event log in the database (schema `bus`: `event` with a
 * sequence, `consumer` positions, `pending` deliveries awaiting ack), the responders by subject, and the
 * broadcast channel. One hub per database and namespace; each service's EmbeddedBus is a view onto it.
 */
export class EmbeddedHub {
  private static readonly hubs: Map<string, EmbeddedHub> = ((globalThis as Record<symbol, unknown>)[
    Symbol.for('switchboard.embeddedHubs')
  ] ??= new Map()) as Map<string, EmbeddedHub>;

  readonly pool: Pool;
  readonly schema: string;
  readonly responders = new Map<string, Responder[]>();
  private readonly rr = new Map<string, number>();
  readonly broadcasts = new EventEmitter();
  private readonly waiters = new Map<() => void, ((subject: string) => boolean) | undefined>();
  private readonly nudged = new Set<string>();
  private nudgeAll = false;
  private appendCount = 0;
  /** Subjects of the last appends, a ring indexed by append count. */
  private readonly recent: string[] = new Array(256).fill('');
  private refs = 0;
  private ready?: Promise<void>;
  private pruneTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private nudgeQueued = false;
  /** Running consumers by durable (one per durable: a later registration takes over). */
  private readonly consumers = new Map<string, EmbeddedConsumer>();
  private fanning?: Promise<void>;
  private fanAgain = false;
  private acks: { durable: string; seq: string }[] = [];
  private acking?: Promise<void>;
  private closed = false;

  private constructor(
    private readonly key: string,
    url: string,
    namespace: string,
  ) {
    this.schema = `${namespace ? `${namespace.replace(/[^A-Za-z0-9_]/g, '_')}_` : ''}bus`.toLowerCase();
    this.pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
    this.pool.on('error', () => undefined); // a broken idle connection is replaced on next use
    this.broadcasts.setMaxListeners(0);
  }

  static async acquire(url: string, namespace: string): Promise<EmbeddedHub> {
    const key = `${url}|${namespace}`;
    let hub = EmbeddedHub.hubs.get(key);
    if (!hub) {
      hub = new EmbeddedHub(key, url, namespace);
      EmbeddedHub.hubs.set(key, hub);
    }
    hub.refs++;
    try {
      await (hub.ready ??= hub.init());
    } catch (err) {
      hub.ready = undefined;
      await hub.release();
      const u = new URL(url);
      throw new Error(`cannot open the embedded bus in the database at ${u.hostname}:${u.port || 5432}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return hub;
  }

  async release(): Promise<void> {
    if (--this.refs > 0) return;
    EmbeddedHub.hubs.delete(this.key);
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const w of this.waiters.keys()) w();
    await this.fanning;
    await this.flushAcks();
    await this.pool.end().catch(() => undefined);
  }

  private async init(): Promise<void> {
    const s = this.schema;
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('switchboard-bus-schema'))`);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${s}.event (
        seq bigserial PRIMARY KEY,
        stream text NOT NULL,
        subject text NOT NULL,
        msg_id text,
        payload text NOT NULL,
        correlation_id text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
      await c.query(`CREATE UNIQUE INDEX IF NOT EXISTS event_msg_id ON ${s}.event (stream, msg_id) WHERE msg_id IS NOT NULL`);
      await c.query(`CREATE INDEX IF NOT EXISTS event_stream_seq ON ${s}.event (stream, seq)`);
      await c.query(`CREATE INDEX IF NOT EXISTS event_created ON ${s}.event (created_at)`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${s}.consumer (
        durable text PRIMARY KEY,
        stream text NOT NULL,
        filter text NOT NULL,
        last_seq bigint NOT NULL DEFAULT 0)`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${s}.pending (
        durable text NOT NULL,
        seq bigint NOT NULL,
        deliveries int NOT NULL DEFAULT 0,
        due_at timestamptz NOT NULL,
        PRIMARY KEY (durable, seq))`);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    let sweeps = 0;
    this.pollTimer = setInterval(() => {
      for (const c of this.consumers.values()) c.sweepAckWait();
      if (++sweeps % Math.round(IDLE_POLL_MS / ACK_WAIT_SWEEP_MS) === 0) this.fanOutSoon();
    }, ACK_WAIT_SWEEP_MS);
    this.pollTimer.unref();
  }

  // ---------------------------------------------------------------- consumers

  /** A consumer starts receiving: it takes over its durable from an earlier instance in this process. */
  register(c: EmbeddedConsumer): void {
    this.consumers.set(c.durable, c);
    this.fanOutSoon();
  }

  unregister(c: EmbeddedConsumer): void {
    if (this.consumers.get(c.durable) === c) this.consumers.delete(c.durable);
  }

  /** Look for new events for every consumer now (or right after the pass in progress). */
  fanOutSoon(): void {
    if (this.closed) return;
    if (this.fanning) {
      this.fanAgain = true;
      return;
    }
    this.fanning = (async () => {
      do {
        this.fanAgain = false;
        await new Promise((r) => setImmediate(r));
        try {
          await this.fanOut();
        } catch (err) {
          if (this.closed) break;
          new Logger('Bus').warn(`reading the event log failed, will retry: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 500));
          this.fanAgain = true;
        }
      } while (this.fanAgain && !this.closed);
    })().finally(() => (this.fanning = undefined));
  }

  /**
   * One statement for every running consumer with room: the events past its position that match its filter become
   * `pending` rows (its delivery 1) and its position moves to the stream's end as this statement saw it (appends
   * commit in sequence order, so nothing below it can still appear) — or to the last event taken when its room ran
   * out. The events come back once each, with the consumers they go to, and are handed over in memory: the rows are
   * the durable record until each consumer acks.
   */
  private async fanOut(): Promise<void> {
    const ready = [...this.consumers.values()].filter((c) => c.running && c.room > 0);
    if (ready.length === 0) return;
    const roomOf = new Map(ready.map((c) => [c.durable, c.room]));
    const s = this.schema;
    const { rows } = await this.pool.query<Leased & { durables: string[] }>(
      `WITH a AS (SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bool[]) AS a(durable, room, re, exact)),
            c AS (SELECT c.durable, c.stream, c.last_seq, a.room, a.re, a.exact, c.filter
                  FROM ${s}.consumer c JOIN a ON a.durable = c.durable FOR UPDATE OF c),
            top AS (SELECT COALESCE(max(seq), 0) AS seq FROM ${s}.event),
            m AS (SELECT c.durable, x.seq FROM c CROSS JOIN top CROSS JOIN LATERAL (
                    SELECT e.seq FROM ${s}.event e
                    WHERE e.stream = c.stream AND e.seq > c.last_seq AND e.seq <= top.seq
                      AND CASE WHEN c.exact THEN e.subject = c.filter ELSE e.subject ~ c.re END
                    ORDER BY e.seq LIMIT c.room) x),
            ins AS (INSERT INTO ${s}.pending (durable, seq, deliveries, due_at)
                    SELECT durable, seq, 1, clock_timestamp() FROM m
                    ON CONFLICT DO NOTHING RETURNING durable, seq),
            pos AS (UPDATE ${s}.consumer u SET last_seq = GREATEST(u.last_seq, CASE
                      WHEN (SELECT count(*) FROM m WHERE m.durable = u.durable) >= c.room
                        THEN (SELECT max(m.seq) FROM m WHERE m.durable = u.durable)
                      ELSE top.seq END)
                    FROM c, top WHERE u.durable = c.durable)
       SELECT e.seq, 1 AS deliveries, e.subject, e.msg_id, e.payload, e.correlation_id, array_agg(i.durable) AS durables
       FROM ins i JOIN ${s}.event e ON e.seq = i.seq GROUP BY e.seq ORDER BY e.seq`,
      [ready.map((c) => c.durable), ready.map((c) => roomOf.get(c.durable)), ready.map((c) => c.regex), ready.map((c) => !c.wildcard)],
    );
    const given = new Map<string, number>();
    for (const r of rows) {
      const { durables, ...leased } = r;
      for (const d of durables) {
        given.set(d, (given.get(d) ?? 0) + 1);
        this.consumers.get(d)?.enqueue({ ...leased, deliveries: 1 });
      }
    }
    // a consumer that took all it had room for may have more waiting in the log: it asks again when it has room
    for (const c of ready) if ((given.get(c.durable) ?? 0) >= roomOf.get(c.durable)!) c.full = true;
  }

  /** Record an ack (the pending row goes); acks of one tick share one statement. */
  ack(durable: string, seq: string): void {
    this.acks.push({ durable, seq });
    if (!this.acking) this.acking = new Promise<void>((r) => setImmediate(r)).then(() => this.flushAcks());
  }

  private async flushAcks(): Promise<void> {
    while (this.acks.length) {
      const batch = this.acks;
      this.acks = [];
      try {
        await this.pool.query(
          `DELETE FROM ${this.schema}.pending p USING unnest($1::text[], $2::bigint[]) AS a(durable, seq)
           WHERE p.durable = a.durable AND p.seq = a.seq`,
          [batch.map((a) => a.durable), batch.map((a) => a.seq)],
        );
      } catch (err) {
        // the rows stay: a restart redelivers them (handlers are idempotent); try again with the next acks
        new Logger('Bus').warn(`acks not recorded yet (${(err as Error).message}); will retry`);
        this.acks.unshift(...batch);
        if (this.closed) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.acking = undefined;
  }

  /** Retention like the streams' max age; a pending delivery keeps its event. */
  async prune(): Promise<void> {
    for (const spec of Object.values(STREAMS)) {
      await this.pool.query(
        `DELETE FROM ${this.schema}.event e WHERE e.stream = $1 AND e.created_at < clock_timestamp() - make_interval(secs => $2)
           AND NOT EXISTS (SELECT 1 FROM ${this.schema}.pending p WHERE p.seq = e.seq)`,
        [spec.name, spec.maxAgeMs / 1000],
      );
    }
  }

  /**
   * Appends one event. Publishers take one advisory lock until their transaction commits, so sequences become
   * visible in order and a reader that has seen seq N never later finds a smaller one. A repeated message id in
   * the same stream is dropped, like JetStream's duplicate window (but for as long as the event is kept).
   */
  async append(q: Query, e: { stream: StreamName; subject: string; msgId?: string; payload: string; correlationId?: string }): Promise<void> {
    await q(`SELECT pg_advisory_xact_lock(hashtext('switchboard-bus-append'))`);
    await q(
      `INSERT INTO ${this.schema}.event (stream, subject, msg_id, payload, correlation_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (stream, msg_id) WHERE msg_id IS NOT NULL DO NOTHING`,
      [e.stream, e.subject, e.msgId ?? null, e.payload, e.correlationId ?? null],
    );
  }

  /** Tell readers an event on `subject` is visible (call after its transaction committed). */
  committed(subject: string): void {
    this.recent[this.appendCount % this.recent.length] = subject;
    this.appendCount++;
    this.nudgeSoon(subject);
    this.fanOutSoon();
  }

  /** Runs `fn` in one transaction on the hub's own connection. */
  async tx<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    const c: PoolClient = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn((sql, params) => c.query(sql, params as unknown[]));
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /**
   * Wake the consumers and tails interested in `subject` (all when omitted), on a later tick: after the
   * publisher's commit (on a single backend a reader's query waits for it anyway; elsewhere the idle poll catches up).
   */
  nudgeSoon(subject?: string): void {
    if (subject === undefined) this.nudgeAll = true;
    else this.nudged.add(subject);
    if (this.nudgeQueued) return;
    this.nudgeQueued = true;
    setTimeout(() => {
      const all = this.nudgeAll;
      const subjects = [...this.nudged];
      this.nudgeQueued = false;
      this.nudgeAll = false;
      this.nudged.clear();
      for (const [w, wants] of [...this.waiters]) if (all || !wants || subjects.some(wants)) w();
    }, 0);
  }

  /** How many events were appended so far (see `wait`). */
  get appended(): number {
    return this.appendCount;
  }

  /**
   * Resolves on the next nudge for a subject `wants` accepts (any, when omitted) or after `ms` — at once when a
   * matching event was appended since `since` (an `appended` value read before the caller looked), so a wake-up
   * that came while the caller was querying is not lost.
   */
  wait(ms: number, wants?: (subject: string) => boolean, since?: number): Promise<void> {
    if (since !== undefined && since !== this.appendCount) {
      const missed = this.appendCount - since;
      if (missed > this.recent.length || !wants) return Promise.resolve();
      for (let i = 1; i <= missed; i++) if (wants(this.recent[(this.appendCount - i) % this.recent.length])) return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      this.waiters.set(done, wants);
    });
  }

  pickResponder(subject: string): Responder | undefined {
    const list = this.responders.get(subject);
    if (!list?.length) return undefined;
    const i = (this.rr.get(subject) ?? 0) % list.length;
    this.rr.set(subject, i + 1);
    return list[i];
  }
}

/**
 * The in-process Bus for single-machine mode, with the NatsBus's semantics: requests are validated, bounded by the
 * contract's timeout and UNAVAILABLE when no service answers; events are appended to a durable log in the database
 * and delivered at least once to each durable consumer, which acks after its handler, naks with exponential backoff
 * and dead-letters to `dlq.<subject>` on the last delivery or on an invalid payload. Positions and unacked
 * deliveries are rows, so a process killed at any point resumes where it was: nothing accepted is lost, and
 * handlers (idempotent, as everywhere) see a redelivery rather than a gap.
 */
export class EmbeddedBus extends Bus {
  readonly transport = 'embedded' as const;
  private readonly log = new Logger('Bus');
  private hub!: EmbeddedHub;
  private readonly consumers: EmbeddedConsumer[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  private readonly txChains = new WeakMap<Query, Promise<unknown>>();
  readonly feed: StreamFeed;

  constructor(readonly opts: EmbeddedBusOptions) {
    super();
    this.feed = new EmbeddedStreamFeed(() => this.hub);
  }

  static async connect(opts: EmbeddedBusOptions): Promise<EmbeddedBus> {
    const bus = new EmbeddedBus(opts);
    bus.hub = await EmbeddedHub.acquire(opts.databaseUrl, opts.namespace);
    return bus;
  }

  get schema(): string {
    return this.hub.schema;
  }

  // ---------------------------------------------------------------- request / reply

  async request<C extends RequestContract>(contract: C, body: RequestInputOf<C>, opts: { timeoutMs?: number } = {}): Promise<ResponseOf<C>> {
    const timeout = opts.timeoutMs ?? contract.timeoutMs;
    const started = process.hrtime.bigint();
    const payload = contract.request.parse(body);
    let outcome = 'ok';
    let timer: NodeJS.Timeout | undefined;
    try {
      const responder = this.closed ? undefined : this.hub.pickResponder(contract.subject);
      if (!responder) {
        outcome = 'no_responders';
        throw new UpstreamUnavailableError(contract.subject, this.closed ? 'message bus closed' : 'no replica is running');
      }
      const correlationId = currentCorrelationId() ?? newCorrelationId();
      const raw = JSON.stringify(payload);
      // like a broker, never run the responder on the caller's stack
      const answered = new Promise<void>((r) => setImmediate(r)).then(() => responder.answer(raw, correlationId));
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UpstreamTimeoutError(contract.subject, timeout)), timeout);
      });
      const reply = JSON.parse(JSON.stringify(await Promise.race([answered, timedOut]))) as WireReply<unknown>;
      if (!reply.ok) {
        outcome = reply.error.code;
        throw new RemoteError(contract.subject, reply.error);
      }
      return contract.response.parse(reply.data);
    } catch (err) {
      if (err instanceof UpstreamTimeoutError) outcome = 'timeout';
      else if (!(err instanceof BusError)) outcome = 'error';
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      busMetrics.requests.inc({ subject: contract.subject, outcome });
      busMetrics.requestSeconds.observe({ subject: contract.subject }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  async respond<C extends RequestContract>(contract: C, handler: RequestHandler<C>): Promise<void> {
    const list = this.hub.responders.get(contract.subject) ?? [];
    list.push({
      owner: this,
      answer: (raw, correlationId) => this.track(answerRequest(contract, handler, raw, { service: this.opts.service, correlationId, log: this.log })),
    });
    this.hub.responders.set(contract.subject, list);
  }

  // ---------------------------------------------------------------- events

  async publish<C extends EventContract>(contract: C, payload: PayloadOf<C>, opts: PublishOptions & { tx?: Query } = {}): Promise<void> {
    const data = (opts.validated ? payload : contract.schema.parse(payload)) as Record<string, unknown>;
    const event = {
      stream: contract.stream,
      subject: contract.subject,
      msgId: opts.msgId ?? (typeof data.eventId === 'string' ? data.eventId : undefined),
      payload: JSON.stringify(data),
      correlationId: currentCorrelationId() ?? newCorrelationId(),
    };
    try {
      // in the caller's transaction (the outbox relay): on the single-backend database every reader's query waits
      // for that commit, so announcing it now is safe
      if (opts.tx) {
        // one connection: appends from parallel publishes in the same transaction go one after another
        const tx = opts.tx;
        const p = (this.txChains.get(tx) ?? Promise.resolve()).catch(() => undefined).then(() => this.hub.append(tx, event));
        this.txChains.set(tx, p);
        await p;
      } else await this.hub.tx((q) => this.hub.append(q, event));
      this.hub.committed(event.subject);
    } catch (err) {
      throw new UpstreamUnavailableError(contract.subject, `event log append failed: ${(err as Error).message}`, { cause: err });
    }
    busMetrics.published.inc({ subject: contract.subject });
  }

  async consume<C extends EventContract>(contract: C, opts: ConsumerOptions, handler: EventHandler<C>): Promise<void> {
    const c = new EmbeddedConsumer(this.hub, this, contract, opts, handler as EventHandler<EventContract>, this.log);
    await c.start();
    this.consumers.push(c);
  }

  /** Read dead letters of one subject (ops tooling and tests). */
  async readDeadLetters(subject: string, max = 100): Promise<DeadLetter[]> {
    const { rows } = await this.hub.pool.query<{ payload: string }>(
      `SELECT payload FROM ${this.hub.schema}.event WHERE stream = 'DLQ' AND subject = $1 ORDER BY seq LIMIT $2`,
      [deadLetterSubject(subject), max],
    );
    return rows.map((r) => JSON.parse(r.payload) as DeadLetter);
  }

  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    p.finally(() => this.inflight.delete(p)).catch(() => undefined);
    return p;
  }

  async isHealthy(): Promise<boolean> {
    if (this.closed) return false;
    return this.hub.pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  async stopConsumers(): Promise<void> {
    for (const [subject, list] of this.hub.responders) {
      this.hub.responders.set(
        subject,
        list.filter((r) => r.owner !== this),
      );
    }
    await Promise.all(this.consumers.splice(0).map((c) => c.stop()));
    await Promise.allSettled([...this.inflight]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stopConsumers();
    this.closed = true;
    await this.hub.release();
  }
}

interface Leased {
  seq: string;
  deliveries: number;
  subject: string;
  msg_id: string | null;
  payload: string;
  correlation_id: string | null;
}

/**
 * One durable consumer. The hub hands it its new events (already `pending` rows, delivery 1); it runs up to
 * `concurrency` handlers at once in sequence order, acks after each handler (row deleted, batched by the hub), naks
 * with exponential backoff (a timer here; the delivery count is written before the retry) and dead-letters on the
 * last delivery or an invalid payload. On start it takes back every row its durable left pending — a killed
 * process's deliveries that were never acked — and delivers them again first (delivery count + 1).
 */
class EmbeddedConsumer {
  /** False once stopped (or, in tests, "killed"): receives and delivers nothing more. */
  running = true;
  /** The hub's last hand-over filled our room: there may be more in the log for us. */
  full = false;
  readonly durable: string;
  readonly regex: string;
  readonly wildcard: boolean;
  private readonly queue: Leased[] = [];
  private readonly active = new Map<Promise<void>, { r: Leased; since: number }>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly maxDeliver: number;
  private readonly concurrency: number;
  private readonly ackWaitMs: number;

  constructor(
    private readonly hub: EmbeddedHub,
    private readonly bus: EmbeddedBus,
    private readonly contract: EventContract,
    private readonly opts: ConsumerOptions,
    private readonly handler: EventHandler<EventContract>,
    private readonly log: Logger,
  ) {
    this.durable = opts.durable;
    this.maxDeliver = opts.maxDeliver ?? 5;
    this.concurrency = opts.concurrency ?? 1;
    this.ackWaitMs = opts.ackWaitMs ?? 30_000;
    this.wildcard = contract.subject.includes('*') || contract.subject.includes('>');
    this.regex = subjectRegex(contract.subject);
  }

  private get s(): string {
    return this.hub.schema;
  }

  /** Events the hub may hand over now. */
  get room(): number {
    return Math.max(0, QUEUE_CAP - this.queue.length - this.active.size);
  }

  async start(): Promise<void> {
    // a new durable starts at the beginning of the stream (DeliverPolicy.All), an existing one where it was
    await this.hub.pool.query(
      `INSERT INTO ${this.s}.consumer (durable, stream, filter) VALUES ($1, $2, $3)
       ON CONFLICT (durable) DO UPDATE SET stream = EXCLUDED.stream, filter = EXCLUDED.filter`,
      [this.durable, this.contract.stream, this.contract.subject],
    );
    // one process owns the data directory: what its durable left pending was handed to a process that is gone
    // (or to an earlier instance here): deliver it again, counted
    const { rows } = await this.hub.pool.query<Leased>(
      `UPDATE ${this.s}.pending p SET deliveries = p.deliveries + 1, due_at = clock_timestamp()
       FROM ${this.s}.event e WHERE p.durable = $1 AND e.seq = p.seq
       RETURNING p.seq, p.deliveries, e.subject, e.msg_id, e.payload, e.correlation_id`,
      [this.durable],
    );
    for (const r of rows.sort((a, b) => Number(a.seq) - Number(b.seq))) this.enqueue(r);
    this.hub.register(this);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.hub.unregister(this);
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    await Promise.allSettled([...this.active.keys()]);
    // handed over but never started: not a delivery (a retry waiting for its timer was counted when it failed)
    const unstarted = this.queue.splice(0).map((r) => r.seq);
    if (unstarted.length)
      await this.hub.pool
        .query(`UPDATE ${this.s}.pending SET deliveries = deliveries - 1 WHERE durable = $1 AND seq = ANY($2::bigint[]) AND deliveries > 0`, [
          this.durable,
          unstarted,
        ])
        .catch(() => undefined);
  }

  /** Take an event (in sequence order) and start handlers while slots are free. */
  enqueue(r: Leased): void {
    if (!this.running) return;
    const seq = Number(r.seq);
    let i = this.queue.length;
    while (i > 0 && Number(this.queue[i - 1].seq) > seq) i--;
    this.queue.splice(i, 0, r);
    this.pump();
  }

  private pump(): void {
    while (this.running && this.active.size < this.concurrency && this.queue.length) {
      const r = this.queue.shift()!;
      const p: Promise<void> = this.bus
        .track(this.deliver(r))
        .catch((err) => this.log.warn(`${this.durable}: delivery failed: ${(err as Error).message}`))
        .finally(() => {
          this.active.delete(p);
          this.pump();
          if (this.full && this.room >= QUEUE_CAP / 2) {
            this.full = false;
            this.hub.fanOutSoon(); // room again for what is still in the log
          }
        });
      this.active.set(p, { r, since: Date.now() });
    }
  }

  /** A delivery still running after its ack wait is delivered again (counted), as the broker would. */
  sweepAckWait(): void {
    if (!this.running) return;
    const now = Date.now();
    for (const a of this.active.values()) {
      if (now - a.since < this.ackWaitMs) continue;
      a.since = now;
      void this.redeliver(a.r, 0);
    }
  }

  /** Count the next delivery in its row, then queue it after `delayMs`. */
  private async redeliver(r: Leased, delayMs: number): Promise<void> {
    const t = setTimeout(() => {
      this.retries.delete(t);
      if (!this.running) return;
      this.hub.pool
        .query<{ deliveries: number }>(`UPDATE ${this.s}.pending SET deliveries = deliveries + 1 WHERE durable = $1 AND seq = $2 RETURNING deliveries`, [
          this.durable,
          r.seq,
        ])
        .then(
          ({ rows }) => {
            if (rows[0]) this.enqueue({ ...r, deliveries: rows[0].deliveries }); // no row: acked meanwhile
          },
          (err) => {
            this.log.warn(`${this.durable}: scheduling a redelivery failed (${(err as Error).message}); retrying`);
            void this.redeliver(r, 1_000);
          },
        );
    }, delayMs);
    this.retries.add(t);
  }

  private async deliver(r: Leased): Promise<void> {
    const correlationId = r.correlation_id || newCorrelationId();
    const subject = r.subject;
    const outcome = (o: string) => busMetrics.handled.inc({ durable: this.durable, subject: this.contract.subject, outcome: o });
    await runWithContext({ correlationId }, async () => {
      let payload: unknown;
      try {
        payload = this.contract.schema.parse(JSON.parse(r.payload));
      } catch (err) {
        await this.deadLetter(r, `invalid payload: ${(err as Error).message}`);
        return;
      }
      const meta: EventMeta & { streamSeq?: number } = {
        subject,
        streamSeq: Number(r.seq),
        deliveryCount: r.deliveries,
        msgId: r.msg_id ?? undefined,
        correlationId,
      };
      try {
        await this.handler(payload as PayloadOf<EventContract>, meta);
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        if (r.deliveries >= this.maxDeliver) {
          this.log.warn(`${this.durable}: ${subject} failed ${r.deliveries} times, dead-lettering: ${message}`);
          await this.deadLetter(r, message);
          outcome('dead_lettered');
        } else {
          const delay = Math.min((this.opts.backoffMs ?? 500) * 2 ** (r.deliveries - 1), this.opts.maxBackoffMs ?? 30_000);
          this.log.warn(`${this.durable}: ${subject} failed (delivery ${r.deliveries}), retry in ${delay} ms: ${message}`);
          void this.redeliver(r, delay);
          outcome('retried');
        }
        return;
      }
      this.hub.ack(this.durable, r.seq);
      outcome('ok');
    });
  }

  private async deadLetter(r: Leased, error: string): Promise<void> {
    const letter: DeadLetter = {
      consumer: this.durable,
      subject: r.subject,
      deliveryCount: r.deliveries,
      error,
      failedAt: new Date().toISOString(),
      payload: r.payload,
    };
    await this.hub
      .tx(async (q) => {
        await this.hub.append(q, { stream: 'DLQ', subject: deadLetterSubject(r.subject), payload: JSON.stringify(letter), correlationId: r.correlation_id ?? undefined });
        await q(`DELETE FROM ${this.s}.pending WHERE durable = $1 AND seq = $2`, [this.durable, r.seq]);
      })
      .then(
        () => {
          this.hub.committed(deadLetterSubject(r.subject));
          busMetrics.deadLettered.inc({ durable: this.durable, subject: this.contract.subject });
        },
        (err) => {
          this.log.warn(`${this.durable}: dead-lettering failed (${(err as Error).message}); it will be redelivered`);
          void this.redeliver(r, 1_000);
        },
      );
  }
}

class EmbeddedStreamFeed implements StreamFeed {
  private readonly channels = new Map<string, Set<(p: unknown) => void>>();

  constructor(private readonly hub: () => EmbeddedHub) {}

  private async read(stream: StreamName, after: number, upTo: number | null, limit: number): Promise<StreamEntry[]> {
    const h = this.hub();
    const { rows } = await h.pool.query<{ seq: string; subject: string; payload: string }>(
      `SELECT seq, subject, payload FROM ${h.schema}.event WHERE stream = $1 AND seq > $2 AND ($3::bigint IS NULL OR seq <= $3)
       ORDER BY seq LIMIT $4`,
      [stream, after, upTo, limit],
    );
    return rows.map((r) => {
      let data: unknown;
      try {
        data = JSON.parse(r.payload);
      } catch {
        data = undefined;
      }
      return { seq: Number(r.seq), subject: r.subject, data };
    });
  }

  async lastSequence(stream: StreamName): Promise<number> {
    const h = this.hub();
    const { rows } = await h.pool.query<{ seq: string | null }>(`SELECT max(seq) AS seq FROM ${h.schema}.event WHERE stream = $1`, [stream]);
    return Number(rows[0]?.seq ?? 0);
  }

  async tail(stream: StreamName, afterSeq: number, onEntry: (e: StreamEntry) => Promise<void>): Promise<StreamTail> {
    let running = true;
    let seq = afterSeq;
    const done = (async () => {
      while (running) {
        const since = this.hub().appended;
        const batch = await this.read(stream, seq, null, 500).catch(() => [] as StreamEntry[]);
        for (const e of batch) {
          if (!running) break;
          seq = e.seq;
          await onEntry(e).catch(() => undefined);
        }
        if (running && batch.length === 0) await this.hub().wait(IDLE_POLL_MS, (subject) => streamOfSubject(subject) === stream, since);
      }
    })();
    return {
      stop: async () => {
        running = false;
        this.hub().nudgeSoon();
        await done;
      },
    };
  }

  async readRange(stream: StreamName, since: number, upTo: number, each: (e: StreamEntry) => Promise<void>): Promise<void> {
    let seq = since;
    while (seq < upTo) {
      const batch = await this.read(stream, seq, upTo, 200);
      if (batch.length === 0) break;
      for (const e of batch) {
        seq = e.seq;
        await each(e);
      }
    }
  }

  broadcast(contract: BroadcastContract, payload: unknown): void {
    const raw = JSON.stringify(contract.schema.parse(payload));
    setImmediate(() => this.hub().broadcasts.emit(contract.subject, JSON.parse(raw)));
  }

  async onBroadcast(contract: BroadcastContract, handler: (payload: unknown) => void): Promise<() => void> {
    const emitter = this.hub().broadcasts;
    emitter.on(contract.subject, handler);
    return () => emitter.off(contract.subject, handler);
  }
}
