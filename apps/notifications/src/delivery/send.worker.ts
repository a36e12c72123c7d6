import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter, register } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import { OutboundFailedV1, OutboundSentV1 } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';
import { GraphClient, type GraphResult } from '../graph/graph.client';
import { explain, isRetryable } from '../graph/graph-errors';
import { MediaUpload, uploadIdOf, withMediaId } from './media-upload';
import { SendRepository, type Claimed } from './send.repository';

const pairKey = (p: string, r: string) => `${p}|${r}`;

const outcomes =
  (register.getSingleMetric('switchboard_outbound_attempts_total') as Counter<string>) ??
  new Counter({ name: 'switchboard_outbound_attempts_total', help: 'Graph API send attempts by outcome', labelNames: ['outcome', 'code'] });

const stale =
  (register.getSingleMetric('switchboard_outbound_stale_attempts_total') as Counter<string>) ??
  new Counter({
    name: 'switchboard_outbound_stale_attempts_total',
    help: 'Send attempts that lost their lease (another attempt or recovery owns the send): call not made or outcome not recorded',
    labelNames: ['stage'],
  });

/** Retries a short database write a few times: the Graph call already happened, its outcome must be kept. */
async function persist<T>(fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

/**
 * The sender loop. Each pass, in one transaction: lock due sends (FOR UPDATE SKIP LOCKED, so replicas never
 * take the same row), take each recipient's pair gate (one message per pair per OUTBOUND_PAIR_INTERVAL_MS),
 * and reserve consecutive slots on the number's shared schedule (rate_slot row: one slot every 1/rate s,
 * across all replicas, reserved at most SCHEDULE_HORIZON_MS ahead of now whatever the number of replicas, so a
 * claimed send waits at most that long for its slot). After commit each send waits for its slot, records that its call starts, calls the
 * Graph API once, and records the outcome with its outbox event.
 *
 * Double sends: a call that got no answer (timeout, broken connection) may have been accepted by Meta, which
 * has no idempotency key (REFERENCE §2). Such a send is recorded `unknown` and reported failed with an
 * explanation, never re-sent (OUTBOUND_ON_TIMEOUT=retry opts into re-sending). A replica that dies leaves
 * its sends `sending`; after the lease they go back to the queue if their call never started, else `unknown`.
 *
 * Lease token: each claim writes a new attempt id into `current_attempt_id`. Starting the call and writing the
 * outcome are conditional on it (and the call also on the lease still running, which it then renews past the
 * Graph timeout), so a worker that outlived its lease never calls and never overwrites the current holder's
 * result; its late result is logged and counted (switchboard_outbound_stale_attempts_total).
 */
@Injectable()
export class SendWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('SendWorker');
  private stopped = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  private readonly waiting = new Map<string, { claimed: Claimed; timer: NodeJS.Timeout }>();
  private readonly inflight = new Set<Promise<void>>();
  private recoveryTimer?: NodeJS.Timeout;
  /** This replica, as recorded on each attempt. */
  readonly workerId = randomUUID();

  constructor(
    @Inject(NOTIFICATIONS_CONFIG) private readonly cfg: NotificationsConfig,
    private readonly ds: DataSource,
    private readonly sends: SendRepository,
    private readonly graph: GraphClient,
    private readonly outbox: OutboxWriter,
    private readonly uploads: MediaUpload,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.cfg.OUTBOUND_SENDER) return;
    this.loopDone = this.loop();
    const every = Math.min(5_000, Math.floor(this.cfg.OUTBOUND_LEASE_MS / 2));
    this.recoveryTimer = setInterval(() => void this.recoverExpired().catch((e) => this.log.warn(`recovery failed: ${(e as Error).message}`)), every);
    this.recoveryTimer.unref();
  }

  /** Stop claiming, give never-called sends back to the queue, let calls in flight finish. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    this.wake?.();
    await this.loopDone;
    const unstarted = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of unstarted) clearTimeout(w.timer);
    if (unstarted.length) {
      await this.ds.transaction(async (em) => {
        await this.sends.release(em, unstarted.map((w) => ({ id: w.claimed.id, attemptId: w.claimed.attemptId })));
        for (const w of unstarted) await this.sends.setPairGate(em, w.claimed.phoneNumberId, w.claimed.recipient, 0);
      });
    }
    await Promise.allSettled([...this.inflight]);
  }

  /** New work was queued: claim now rather than at the next poll. */
  kick(): void {
    this.wake?.();
  }

  rateOf(phoneNumberId: string): number {
    const o = Number(this.cfg.OUTBOUND_RATE_OVERRIDES[phoneNumberId]);
    return Number.isFinite(o) && o > 0 ? o : this.cfg.OUTBOUND_RATE_PER_SECOND;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      try {
        claimed = await this.claimOnce();
      } catch (err) {
        this.log.warn(`claiming sends failed, will retry: ${(err as Error).message}`);
      }
      if (this.stopped) break;
      if (claimed === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.cfg.OUTBOUND_POLL_MS);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Slots at most this far ahead of now on a number's shared schedule, whatever the number of replicas. */
  static readonly SCHEDULE_HORIZON_MS = 1_000;

  /** How many sends a number may still claim: its slots up to the horizon (one at least when none is waiting). */
  private roomOf(phoneNumberId: string, aheadMs: number): number {
    const h = SendWorker.SCHEDULE_HORIZON_MS;
    const rate = this.rateOf(phoneNumberId);
    return aheadMs <= 0 ? Math.max(1, Math.floor((rate * h) / 1000)) : Math.max(0, Math.floor((rate * (h - aheadMs)) / 1000));
  }

  /** One claim pass; returns how many sends this replica took. */
  async claimOnce(): Promise<number> {
    const claimed = await this.ds.transaction(async (em) => {
      // numbers whose shared schedule (claimed by any replica) still runs over half the horizon ahead are not even
      // looked at, and the others are filled up to it: the look-ahead is global, so more replicas never mean sends
      // waiting longer for their slots (and their lease), and a pass claims half a horizon's sends, not a few
      const due = await this.sends.lockDue(em, 500, SendWorker.SCHEDULE_HORIZON_MS / 2);
      if (due.length === 0) return [];
      const ahead = await this.sends.lockSchedules(em, [...new Set(due.map((d) => d.phone_number_id))]);
      const room = new Map([...ahead].map(([pn, ms]) => [pn, this.roomOf(pn, ms)]));
      // one send per pair per pass
      const chosen: typeof due = [];
      const later: typeof due = [];
      const pairs = new Set<string>();
      for (const d of due) {
        const key = pairKey(d.phone_number_id, d.recipient);
        if (pairs.has(key)) {
          later.push(d);
          continue;
        }
        if ((room.get(d.phone_number_id) ?? 0) <= 0) continue;
        room.set(d.phone_number_id, room.get(d.phone_number_id)! - 1);
        pairs.add(key);
        chosen.push(d);
      }
      let go = chosen;
      if (this.cfg.OUTBOUND_PAIR_INTERVAL_MS > 0) {
        const open = await this.sends.takePairGates(
          em,
          chosen.map((c) => ({ phoneNumberId: c.phone_number_id, recipient: c.recipient })),
          this.cfg.OUTBOUND_LEASE_MS + 2_000,
        );
        go = chosen.filter((c) => open.has(pairKey(c.phone_number_id, c.recipient)));
        const blocked = [...chosen.filter((c) => !open.has(pairKey(c.phone_number_id, c.recipient))), ...later];
        await this.deferToGates(em, blocked);
      }
      const out: Claimed[] = [];
      const byNumber = new Map<string, typeof go>();
      for (const g of go) byNumber.set(g.phone_number_id, [...(byNumber.get(g.phone_number_id) ?? []), g]);
      for (const [phoneNumberId, items] of byNumber) {
        const rate = this.rateOf(phoneNumberId);
        const start = await this.sends.reserveSlots(em, phoneNumberId, items.length, rate);
        for (const [i, it] of items.entries())
          out.push({ id: it.id, attemptId: randomUUID(), slotAt: start + (i * 1000) / rate, attempt: 1, phoneNumberId, recipient: it.recipient, conversationId: null, graphBody: {} });
      }
      if (out.length) {
        const attempts = await this.sends.markClaimed(em, this.workerId, out, this.cfg.OUTBOUND_LEASE_MS);
        const rows: { id: string; graph_body: Record<string, unknown>; conversation_id: string | null }[] = await em.query(
          `SELECT id, graph_body, conversation_id FROM notifications.outbound_send WHERE id = ANY($1::uuid[])`,
          [out.map((o) => o.id)],
        );
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const o of out) {
          o.graphBody = byId.get(o.id)!.graph_body;
          o.conversationId = byId.get(o.id)!.conversation_id;
          o.attempt = attempts.get(o.id) ?? 1;
        }
      }
      return out;
    });
    for (const c of claimed) this.schedule(c);
    return claimed.length;
  }

  private async deferToGates(em: EntityManager, blocked: { id: string; phone_number_id: string; recipient: string }[]): Promise<void> {
    if (!blocked.length) return;
    const times = await this.sends.gateTimes(em, blocked.map((b) => ({ phoneNumberId: b.phone_number_id, recipient: b.recipient })));
    const groups = new Map<number, string[]>();
    for (const b of blocked) {
      const at = times.get(pairKey(b.phone_number_id, b.recipient))?.getTime() ?? Date.now() + 100;
      groups.set(at, [...(groups.get(at) ?? []), b.id]);
    }
    for (const [at, ids] of groups) await this.sends.deferTo(em, ids, new Date(at));
  }

  private schedule(c: Claimed): void {
    const timer = setTimeout(() => {
      this.waiting.delete(c.id);
      const p = this.execute(c).catch((err) => this.log.warn(`send ${c.id} attempt failed to record, the lease will recover it: ${(err as Error).message}`));
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }, Math.max(0, c.slotAt - Date.now()));
    this.waiting.set(c.id, { claimed: c, timer });
  }

  private backoff(attempt: number, base = this.cfg.OUTBOUND_RETRY_BASE_MS, factor = 2): number {
    const raw = Math.min(this.cfg.OUTBOUND_RETRY_MAX_MS, base * factor ** (attempt - 1));
    return Math.round(raw * (0.8 + Math.random() * 0.4));
  }

  async execute(c: Claimed): Promise<void> {
    let graphBody = c.graphBody;
    const uploadId = uploadIdOf(graphBody);
    if (uploadId) {
      // an attachment stored in ingest: upload it first (no message yet, so a failure is retried like any other)
      // reading and uploading a big file can outlast the lease: keep it, or recovery would requeue the send and
      // markCallStarted refuse this attempt after every upload (never sent)
      const up = await this.keepingLease(c, () => this.uploads.toGraph(c.phoneNumberId, uploadId));
      if (up === null) return this.lostLease(c, 'call', 'the attachment was not uploaded');
      if (up.kind !== 'uploaded') {
        await persist(() => this.ds.transaction(async (em) => {
          if (await this.sends.lockOwned(em, c.id, c.attemptId)) await this.record(em, c, up);
          else this.lostLease(c, 'outcome', `media upload ${up.kind}`);
        }));
        return;
      }
      graphBody = withMediaId(graphBody, up.mediaId);
    }
    const started = await this.sends.markCallStarted(this.ds.manager, c.id, c.attemptId, this.cfg.OUTBOUND_LEASE_MS);
    if (!started) return this.lostLease(c, 'call', 'the Graph API was not called');
    const res = await this.graph.postMessage(c.phoneNumberId, { messaging_product: 'whatsapp', recipient_type: 'individual', to: c.recipient, ...graphBody });
    const wamid = res.kind === 'ok' ? (res.body.messages as { id?: unknown }[] | undefined)?.[0]?.id : undefined;
    outcomes.inc({ outcome: res.kind, code: res.kind === 'error' ? String(res.code ?? res.status) : '' });
    if (res.kind === 'ok' && typeof wamid === 'string') {
      // the common path: one statement and the outbox row, in one transaction
      await persist(() => this.ds.transaction(async (em) => {
        if (!(await this.sends.completeSent(em, c, wamid, res.status, this.cfg.OUTBOUND_PAIR_INTERVAL_MS)))
          return this.lostLease(c, 'outcome', `WhatsApp accepted it as ${wamid}`);
        await this.outbox.add(em, OutboundSentV1, {
          eventId: randomUUID(),
          occurredAt: new Date().toISOString(),
          sendId: c.id,
          phoneNumberId: c.phoneNumberId,
          conversationId: c.conversationId,
          waMessageId: wamid,
        });
      }));
      return;
    }
    await persist(() =>
      this.ds.transaction(async (em) => {
        const row = await this.sends.lockOwned(em, c.id, c.attemptId);
        if (!row) return this.lostLease(c, 'outcome', `Graph API outcome ${res.kind}${res.kind === 'error' ? ` ${res.code ?? res.status}` : ''}`);
        await this.record(em, c, res);
      }),
    );
  }

  /** Runs `work` (no message call in it) renewing this attempt's lease every third of a lease; null = the lease was already lost. */
  private async keepingLease<T>(c: Claimed, work: () => Promise<T>): Promise<T | null> {
    const renew = () => this.sends.renewLease(this.ds.manager, c.id, c.attemptId, this.cfg.OUTBOUND_LEASE_MS).catch(() => true);
    if (!(await renew())) return null;
    const timer = setInterval(() => void renew(), Math.max(250, Math.floor(this.cfg.OUTBOUND_LEASE_MS / 3)));
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * This attempt no longer holds the send (its lease ran out and recovery or a newer attempt took it over): what it
   * would have written is dropped — the current holder's result stands — and logged for the operator.
   */
  private lostLease(c: Claimed, stage: 'call' | 'outcome', what: string): void {
    stale.inc({ stage });
    this.log.warn(`send ${c.id}: attempt ${c.attemptId} lost its lease (another attempt or recovery owns the send); ${what}, not recorded`);
  }

  private async record(em: EntityManager, c: Claimed, res: GraphResult): Promise<void> {
    const ref = { sendId: c.id, phoneNumberId: c.phoneNumberId, conversationId: c.conversationId };
    const event = () => ({ eventId: randomUUID(), occurredAt: new Date().toISOString(), ...ref });
    const pairInterval = this.cfg.OUTBOUND_PAIR_INTERVAL_MS;
    const fail = async (status: 'failed' | 'unknown', code: number | null, title: string | null, explanation: string) => {
      await this.sends.markFailed(em, c.id, status, code, title, explanation);
      await this.outbox.add(em, OutboundFailedV1, { ...event(), code, title, explanation });
    };

    if (res.kind === 'ok') {
      const wamid = (res.body.messages as { id?: unknown }[] | undefined)?.[0]?.id;
      await this.sends.finishAttempt(em, c.attemptId, 'sent', res.status, null);
      if (pairInterval > 0) await this.sends.setPairGate(em, c.phoneNumberId, c.recipient, pairInterval);
      if (typeof wamid !== 'string') {
        await fail('unknown', null, 'no message id', 'WhatsApp accepted the request but returned no message id; it was not sent again to avoid a duplicate.');
        return;
      }
      await this.sends.markSent(em, c.id, wamid);
      await this.outbox.add(em, OutboundSentV1, { ...event(), waMessageId: wamid });
      return;
    }

    if (res.kind === 'timeout' && this.cfg.OUTBOUND_ON_TIMEOUT === 'fail') {
      await this.sends.finishAttempt(em, c.attemptId, 'timeout', null, null);
      if (pairInterval > 0) await this.sends.setPairGate(em, c.phoneNumberId, c.recipient, pairInterval);
      this.log.warn(`send ${c.id}: Graph API gave no answer (${res.reason}); recorded unknown, not re-sent`);
      await fail(
        'unknown',
        null,
        'no answer from WhatsApp',
        `WhatsApp did not answer (${res.reason}). The message may have been sent; it was not sent again to avoid a duplicate. Check the conversation before sending it again.`,
      );
      return;
    }

    const code = res.kind === 'error' ? res.code : null;
    const status = res.kind === 'error' ? res.status : 0;
    const title = res.kind === 'error' ? res.title : res.kind === 'unreachable' ? 'WhatsApp unreachable' : 'no answer from WhatsApp';
    const details = res.kind === 'error' ? res.details : res.reason;
    const retryable = res.kind !== 'error' || isRetryable(code, status);
    await this.sends.finishAttempt(em, c.attemptId, retryable ? 'retry' : 'failed', res.kind === 'error' ? res.status : null, code);
    if (retryable && c.attempt < this.cfg.OUTBOUND_MAX_ATTEMPTS) {
      let delay = this.backoff(c.attempt);
      if (code === 130429) await this.sends.pushSlots(em, c.phoneNumberId, Math.max(1_000, delay));
      if (code === 131056) delay = Math.max(pairInterval, this.backoff(c.attempt, this.cfg.OUTBOUND_RETRY_BASE_MS, 4));
      if (pairInterval > 0) await this.sends.setPairGate(em, c.phoneNumberId, c.recipient, code === 131056 ? delay : 0);
      this.log.warn(`send ${c.id}: ${code ?? status ?? res.kind} on attempt ${c.attempt}, retry in ${delay} ms`);
      await this.sends.markRetry(em, c.id, delay, code, title, explain(code, details ?? title));
      return;
    }
    if (pairInterval > 0) await this.sends.setPairGate(em, c.phoneNumberId, c.recipient, 0);
    const why = explain(code, details ?? title);
    const explanation = retryable ? `${why} Gave up after ${c.attempt} attempts.` : details && why !== details ? `${why} (${details})` : why;
    await fail('failed', code, title, explanation);
  }

  /** Sends whose replica vanished: requeue if never called, else record unknown (no blind re-send). */
  async recoverExpired(): Promise<number> {
    return this.ds.transaction(async (em) => {
      const rows = await this.sends.lockExpired(em, 200);
      for (const r of rows) {
        if (!r.call_started_at && r.current_attempt_id) {
          await this.sends.release(em, [{ id: r.id, attemptId: r.current_attempt_id }]);
          continue;
        }
        if (r.current_attempt_id) await this.sends.finishAttempt(em, r.current_attempt_id, 'unknown', null, null);
        const explanation =
          'The service stopped while this message was being sent. It may have been sent; it was not sent again to avoid a duplicate.';
        await this.sends.markFailed(em, r.id, 'unknown', null, 'interrupted', explanation);
        await this.outbox.add(em, OutboundFailedV1, {
          eventId: randomUUID(),
          occurredAt: new Date().toISOString(),
          sendId: r.id,
          phoneNumberId: r.phone_number_id,
          conversationId: r.conversation_id,
          code: null,
          title: 'interrupted',
          explanation,
        });
      }
      return rows.length;
    });
  }
}
