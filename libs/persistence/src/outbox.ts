import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager, type EntitySubscriberInterface, type QueryRunner } from 'typeorm';
import { Counter, register } from 'prom-client';
import { Bus, currentCorrelationId, runWithContext, type PublishOptions } from '@app/messaging';
import type { EventContract, PayloadOf } from '@app/contracts';

export const OUTBOX_OPTIONS = Symbol('OUTBOX_OPTIONS');
export interface OutboxOptions {
  schema: string;
  /** Every contract this service may publish through the outbox, by subject. */
  contracts: EventContract[];
  pollIntervalMs?: number;
  batchSize?: number;
  /** Published rows older than this are deleted (JetStream and the owning tables keep the history). */
  retentionMs?: number;
}

const relayed =
  (register.getSingleMetric('switchboard_outbox_relayed_total') as Counter<string>) ??
  new Counter({ name: 'switchboard_outbox_relayed_total', help: 'Outbox rows relayed to JetStream', labelNames: ['schema', 'outcome'] });

/**
 * Publishes committed outbox rows to JetStream with `Nats-Msg-Id = event id` (so a re-publish after a crash
 * is dropped by the broker) and marks them published. Rows are claimed with SKIP LOCKED, so several replicas
 * share the work without publishing a row twice in the normal case.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('OutboxRelay');
  private timer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private readonly bySubject: Map<string, EventContract>;
  /** Open transactions that wrote outbox rows: the relay is kicked when they commit (`afterCommit`). */
  private readonly toKick = new WeakSet<QueryRunner>();
  private readonly onCommit: EntitySubscriberInterface = {
    // only the outermost commit makes the rows visible (a savepoint's release also broadcasts)
    afterTransactionCommit: ({ queryRunner }) => {
      if (!queryRunner.isTransactionActive && this.toKick.delete(queryRunner)) this.kickSoon();
    },
    afterTransactionRollback: ({ queryRunner }) => {
      if (!queryRunner.isTransactionActive) this.toKick.delete(queryRunner);
    },
  };

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly opts: OutboxOptions,
    private readonly ds: DataSource,
    @Inject(Bus) private readonly bus: Bus,
  ) {
    this.bySubject = new Map(opts.contracts.map((c) => [c.subject, c]));
    ds.subscribers.push(this.onCommit);
  }

  /**
   * Rows were written on `em`: a pass once its transaction has committed (a pass before the commit would not see
   * them and leave them to the next poll), at once when `em` is in no transaction.
   */
  afterCommit(em: EntityManager): void {
    const qr = em.queryRunner;
    if (qr?.isTransactionActive) this.toKick.add(qr);
    else this.kickSoon();
  }

  onApplicationBootstrap(): void {
    const every = this.opts.pollIntervalMs ?? 500;
    this.timer = setInterval(() => this.kickSoon(), every);
    this.timer.unref();
    this.pruneTimer = setInterval(() => void this.prune().catch((err) => this.log.warn(`outbox prune failed: ${err.message}`)), 60_000);
    this.pruneTimer.unref();
    this.kickSoon();
  }

  /** Deletes published rows past the retention (default 1 day), a bounded batch at a time. */
  async prune(): Promise<number> {
    const rows = await this.ds.query(
      `DELETE FROM ${this.opts.schema}.outbox WHERE id IN (
         SELECT id FROM ${this.opts.schema}.outbox
         WHERE published_at IS NOT NULL AND published_at < clock_timestamp() - make_interval(secs => $1)
         LIMIT 10000)`,
      [(this.opts.retentionMs ?? 24 * 3600_000) / 1000],
    );
    return Array.isArray(rows) ? (rows[1] ?? 0) : 0;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const i = this.ds.subscribers.indexOf(this.onCommit);
    if (i >= 0) this.ds.subscribers.splice(i, 1);
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.running;
  }

  /** Run a relay pass now (or right after the current one). */
  kickSoon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Relay until the outbox is empty (tests and shutdown). */
  async drain(): Promise<void> {
    while ((await this.pass()) > 0);
  }

  private async loop(): Promise<void> {
    // kicks of the same moment (several commits) share the pass
    await new Promise((r) => setImmediate(r));
    do {
      this.again = false;
      try {
        // a pass that found fewer rows than it may take emptied the outbox as of its look; whatever is added after it
        // kicks again (`again`), so no extra pass (3 statements) just to find nothing
        while (!this.stopped && (await this.pass()) >= this.limit);
      } catch (err) {
        this.log.warn(`outbox relay pass failed, will retry: ${(err as Error).message}`);
        return;
      }
    } while (this.again && !this.stopped);
  }

  private get limit(): number {
    return this.opts.batchSize ?? 200;
  }

  private async pass(): Promise<number> {
    const limit = this.limit;
    const schema = this.opts.schema;
    return this.ds.transaction(async (em) => {
      // claimed and marked published in one statement (the mark commits only with the pass: a failed publish is
      // unmarked below, a crash rolls it all back), handed out in the order written
      const rows: { id: string; subject: string; payload: Record<string, unknown>; correlation_id: string | null }[] =
        await em.query(
          `WITH claimed AS (
             SELECT id FROM ${schema}.outbox WHERE published_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED),
           marked AS (
             UPDATE ${schema}.outbox o SET published_at = clock_timestamp() FROM claimed WHERE o.id = claimed.id
             RETURNING o.id, o.subject, o.payload, o.correlation_id, o.created_at)
           SELECT id, subject, payload, correlation_id FROM marked ORDER BY created_at`,
          [limit],
        );
      if (rows.length === 0) return 0;
      const done: string[] = [];
      // `tx`: the embedded bus appends to its log in this very transaction (on a single-backend database a
      // second connection would wait for this one to commit); NATS ignores it
      const tx = (sql: string, params?: unknown[]) => em.query(sql, params);
      const results = await Promise.allSettled(
        rows.map((row) => {
          const contract = this.bySubject.get(row.subject);
          if (!contract) return Promise.reject(new Error(`no contract registered for ${row.subject}`));
          return runWithContext({ correlationId: row.correlation_id ?? row.id }, () =>
            // not parsed again: rows are written by `OutboxWriter.add`/`collect`, which parse them by the contract (or
            // by statements that build the same payloads); every consumer parses each delivery too
            this.bus.publish(contract, row.payload as PayloadOf<typeof contract>, { msgId: row.id, tx, validated: true } as PublishOptions),
          ).then(() => done.push(row.id));
        }),
      );
      const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      if (done.length) relayed.inc({ schema, outcome: 'published' }, done.length);
      if (failed.length) {
        relayed.inc({ schema, outcome: 'failed' }, failed.length);
        const failedIds = rows.map((r) => r.id).filter((id) => !done.includes(id));
        await em.query(
          `UPDATE ${schema}.outbox SET published_at = NULL, attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])`,
          [failedIds, String(failed[0].reason?.message ?? failed[0].reason).slice(0, 500)],
        );
        this.log.warn(`${failed.length} outbox event(s) not published, will retry: ${failed[0].reason?.message ?? failed[0].reason}`);
        return 0; // stop this pass; the next poll retries
      }
      return rows.length;
    });
  }
}

/**
 * Writes held back per transaction: while `run(em, fn, flush)` runs `fn`, `of(em)` is the list to push to instead of
 * writing; `flush` then writes the list at once (one multi-row INSERT) in the same transaction. Nested runs join
 * the outer one. Keyed by the transaction's EntityManager, so other transactions write as usual.
 */
export class TxCollector<E> {
  private readonly pending = new WeakMap<EntityManager, E[]>();

  of(em: EntityManager): E[] | undefined {
    return this.pending.get(em);
  }

  async run<T>(em: EntityManager, fn: () => Promise<T>, flush: (items: E[]) => Promise<void>): Promise<T> {
    if (this.pending.has(em)) return fn();
    const items: E[] = [];
    this.pending.set(em, items);
    let result: T;
    try {
      result = await fn();
    } finally {
      this.pending.delete(em);
    }
    if (items.length) await flush(items);
    return result;
  }
}

interface PendingEvent {
  id: string;
  subject: string;
  payload: Record<string, unknown>;
  correlation_id: string | null;
}
/** Transactions whose events are being collected (see `OutboxWriter.collect`; module-wide, whichever instance adds). */
const collectingEvents = new TxCollector<PendingEvent>();

/** Writes an event in the caller's transaction. The relay publishes it after commit. */
@Injectable()
export class OutboxWriter {
  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly opts: OutboxOptions,
    private readonly relay: OutboxRelay,
  ) {}

  async add<C extends EventContract>(em: EntityManager, contract: C, payload: PayloadOf<C>): Promise<string> {
    const data = contract.schema.parse(payload) as Record<string, unknown>;
    const id = typeof data.eventId === 'string' ? data.eventId : randomUUID();
    const pending = collectingEvents.of(em);
    if (pending) {
      pending.push({ id, subject: contract.subject, payload: data, correlation_id: currentCorrelationId() ?? null });
      return id;
    }
    await em.query(
      `INSERT INTO ${this.opts.schema}.outbox (id, subject, payload, correlation_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING`,
      [id, contract.subject, JSON.stringify(data), currentCorrelationId() ?? null],
    );
    this.relay.afterCommit(em);
    return id;
  }

  /**
   * Runs `fn` in the caller's transaction with every event added on `em` held back, then writes them all in one
   * multi-row INSERT (in the order added) before returning: a batch transaction pays one round trip instead of
   * one per event. Nested calls join the outer collection.
   */
  async collect<T>(em: EntityManager, fn: () => Promise<T>): Promise<T> {
    return collectingEvents.run(em, fn, async (pending) => {
      await em.query(
        `INSERT INTO ${this.opts.schema}.outbox (id, subject, payload, correlation_id)
         SELECT (e->>'id')::uuid, e->>'subject', e->'payload', e->>'correlation_id'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n
         ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(pending)],
      );
      this.relay.afterCommit(em);
    });
  }
}
