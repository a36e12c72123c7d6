import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type SendStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'unknown';

export interface SendRow {
  id: string;
  idempotency_key: string;
  request_hash: string;
  phone_number_id: string;
  recipient: string;
  conversation_id: string | null;
  kind: string;
  graph_body: Record<string, unknown>;
  status: SendStatus;
  attempts: number;
  wa_message_id: string | null;
  current_attempt_id: string | null;
}

export interface NewSend {
  id: string;
  idempotencyKey: string;
  requestHash: string;
  phoneNumberId: string;
  recipient: string;
  conversationId: string | null;
  senderId: string | null;
  senderName: string | null;
  kind: string;
  graphBody: Record<string, unknown>;
}

export interface Claimed {
  id: string;
  attemptId: string;
  attempt: number;
  slotAt: number;
  phoneNumberId: string;
  recipient: string;
  conversationId: string | null;
  graphBody: Record<string, unknown>;
}

/** TypeORM answers UPDATE … RETURNING with [rows, count]; INSERT/SELECT with rows. */
export const rowsOf = <T>(res: unknown): T[] => (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number' ? (res[0] as T[]) : (res as T[]));

const COLS = `id, idempotency_key, request_hash, phone_number_id, recipient, conversation_id, kind, graph_body, status, attempts, wa_message_id, current_attempt_id`;

/** SQL of the send queue. Every method takes the caller's EntityManager (the caller owns the transaction). */
@Injectable()
export class SendRepository {
  async findByKey(em: EntityManager, key: string): Promise<SendRow | null> {
    const rows: SendRow[] = await em.query(`SELECT ${COLS} FROM notifications.outbound_send WHERE idempotency_key = $1`, [key]);
    return rows[0] ?? null;
  }

  async findById(em: EntityManager, id: string): Promise<SendRow | null> {
    const rows: SendRow[] = await em.query(`SELECT ${COLS} FROM notifications.outbound_send WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Inserts unless the key exists. Concurrent identical keys wait on the unique index; only one row is created. */
  async insertIfNew(em: EntityManager, s: NewSend): Promise<boolean> {
    const rows = await em.query(
      `INSERT INTO notifications.outbound_send
         (id, idempotency_key, request_hash, phone_number_id, recipient, conversation_id, sender_id, sender_name, kind, graph_body, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued')
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [s.id, s.idempotencyKey, s.requestHash, s.phoneNumberId, s.recipient, s.conversationId, s.senderId, s.senderName, s.kind, JSON.stringify(s.graphBody)],
    );
    return rows.length > 0;
  }

  /** Due sends, oldest first, locked for this transaction; rows other replicas hold are skipped. */
  lockDue(em: EntityManager, limit: number, horizonMs: number): Promise<{ id: string; phone_number_id: string; recipient: string }[]> {
    return em.query(
      `SELECT id, phone_number_id, recipient FROM notifications.outbound_send o
       WHERE status = 'queued' AND next_attempt_at <= clock_timestamp()
         AND NOT EXISTS (SELECT 1 FROM notifications.rate_slot r WHERE r.phone_number_id = o.phone_number_id
                         AND r.next_slot_at > clock_timestamp() + make_interval(secs => $2::double precision / 1000))
       ORDER BY next_attempt_at, created_at LIMIT $1 FOR UPDATE OF o SKIP LOCKED`,
      [limit, horizonMs],
    );
  }

  /**
   * Locks the numbers' schedules for this claim (in a fixed order, so replicas never deadlock on them) and says how
   * far ahead of now each already runs (ms; 0 when its next slot is now or past).
   */
  async lockSchedules(em: EntityManager, phoneNumberIds: string[]): Promise<Map<string, number>> {
    const rows: { phone_number_id: string; ahead_ms: string | number }[] = await em.query(
      `INSERT INTO notifications.rate_slot AS s (phone_number_id, next_slot_at)
       SELECT p, clock_timestamp() FROM unnest($1::text[]) AS t(p) ORDER BY p
       ON CONFLICT (phone_number_id) DO UPDATE SET next_slot_at = GREATEST(s.next_slot_at, clock_timestamp())
       RETURNING phone_number_id, greatest(0, extract(epoch FROM next_slot_at - clock_timestamp()) * 1000) AS ahead_ms`,
      [[...phoneNumberIds].sort()],
    );
    return new Map(rows.map((r) => [r.phone_number_id, Number(r.ahead_ms)]));
  }

  /**
   * Takes the pair gate for each (number, recipient) whose gate is open, holding it until `holdUntil`.
   * Row locks serialise replicas: a gate taken by another replica's committed claim is not open any more.
   */
  async takePairGates(em: EntityManager, pairs: { phoneNumberId: string; recipient: string }[], holdMs: number): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const rows: { phone_number_id: string; recipient: string }[] = await em.query(
      `INSERT INTO notifications.pair_gate AS g (phone_number_id, recipient, next_at)
       SELECT p, r, clock_timestamp() + make_interval(secs => $3::double precision / 1000)
       FROM unnest($1::text[], $2::text[]) AS t(p, r)
       ON CONFLICT (phone_number_id, recipient) DO UPDATE SET next_at = EXCLUDED.next_at
       WHERE g.next_at <= clock_timestamp()
       RETURNING phone_number_id, recipient`,
      [pairs.map((p) => p.phoneNumberId), pairs.map((p) => p.recipient), holdMs],
    );
    return new Set(rows.map((r) => `${r.phone_number_id}|${r.recipient}`));
  }

  /** When a gate opens again (its next_at), for sends that wait on it. */
  async gateTimes(em: EntityManager, pairs: { phoneNumberId: string; recipient: string }[]): Promise<Map<string, Date>> {
    if (pairs.length === 0) return new Map();
    const rows: { phone_number_id: string; recipient: string; next_at: Date }[] = await em.query(
      `SELECT g.phone_number_id, g.recipient, g.next_at FROM notifications.pair_gate g
       JOIN unnest($1::text[], $2::text[]) AS t(p, r) ON g.phone_number_id = t.p AND g.recipient = t.r`,
      [pairs.map((p) => p.phoneNumberId), pairs.map((p) => p.recipient)],
    );
    return new Map(rows.map((r) => [`${r.phone_number_id}|${r.recipient}`, r.next_at]));
  }

  async deferTo(em: EntityManager, ids: string[], at: Date): Promise<void> {
    if (ids.length) await em.query(`UPDATE notifications.outbound_send SET next_attempt_at = $2 WHERE id = ANY($1::uuid[])`, [ids, at]);
  }

  /**
   * Reserves `n` consecutive send slots on the number's shared schedule (one every 1/rate s) and returns
   * the first slot's time (ms). The single-row upsert is atomic, so replicas never get the same slot.
   */
  async reserveSlots(em: EntityManager, phoneNumberId: string, n: number, ratePerSecond: number): Promise<number> {
    const span = n / ratePerSecond;
    const rows: { next_slot_at: Date }[] = await em.query(
      `INSERT INTO notifications.rate_slot AS s (phone_number_id, next_slot_at)
       VALUES ($1, clock_timestamp() + make_interval(secs => $2::double precision))
       ON CONFLICT (phone_number_id) DO UPDATE
         SET next_slot_at = GREATEST(s.next_slot_at, clock_timestamp()) + make_interval(secs => $2::double precision)
       RETURNING next_slot_at`,
      [phoneNumberId, span],
    );
    return rows[0].next_slot_at.getTime() - span * 1000;
  }

  /** After a 130429: nobody sends from this number before `ms` from now. */
  async pushSlots(em: EntityManager, phoneNumberId: string, ms: number): Promise<void> {
    await em.query(
      `UPDATE notifications.rate_slot SET next_slot_at = GREATEST(next_slot_at, clock_timestamp() + make_interval(secs => $2::double precision / 1000))
       WHERE phone_number_id = $1`,
      [phoneNumberId, ms],
    );
  }

  /** Marks the sends claimed by this replica (one statement for the batch) and records their attempts. */
  async markClaimed(em: EntityManager, worker: string, items: { id: string; attemptId: string; slotAt: number }[], leaseMs: number): Promise<Map<string, number>> {
    if (!items.length) return new Map();
    const rows = rowsOf<{ id: string; attempts: number }>(await em.query(
      `UPDATE notifications.outbound_send s
       SET status = 'sending', attempts = s.attempts + 1, current_attempt_id = t.attempt_id, call_started_at = NULL,
           lease_until = to_timestamp(t.slot_at / 1000) + make_interval(secs => $4::double precision / 1000),
           updated_at = clock_timestamp()
       FROM unnest($1::uuid[], $2::uuid[], $3::double precision[]) AS t(id, attempt_id, slot_at)
       WHERE s.id = t.id RETURNING s.id, s.attempts`,
      [items.map((i) => i.id), items.map((i) => i.attemptId), items.map((i) => i.slotAt), leaseMs],
    ));
    const attempts = new Map(rows.map((r) => [r.id, r.attempts]));
    await em.query(
      `INSERT INTO notifications.outbound_attempt (id, send_id, attempt, worker, slot_at)
       SELECT t.attempt_id, t.id, t.attempt, $5, to_timestamp(t.slot_at / 1000)
       FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::double precision[]) AS t(attempt_id, id, attempt, slot_at)`,
      [items.map((i) => i.attemptId), items.map((i) => i.id), items.map((i) => attempts.get(i.id) ?? 1), items.map((i) => i.slotAt), worker],
    );
    return attempts;
  }

  /**
   * Right before the Graph call (one autocommit statement): records that this attempt is being made and renews
   * its lease to `leaseMs` from now (longer than a Graph call), so recovery never judges a call still in flight.
   * Fenced: only the current attempt (`current_attempt_id`, the lease token) and only while its lease runs.
   * False = this attempt lost the send (another attempt or recovery owns it, or its lease ran out): no call.
   */
  async markCallStarted(em: EntityManager, id: string, attemptId: string, leaseMs: number): Promise<boolean> {
    const rows = await em.query(
      `WITH s AS (
         UPDATE notifications.outbound_send SET call_started_at = clock_timestamp(),
           lease_until = clock_timestamp() + make_interval(secs => $3::double precision / 1000)
         WHERE id = $1 AND current_attempt_id = $2 AND status = 'sending' AND lease_until > clock_timestamp() RETURNING id)
       UPDATE notifications.outbound_attempt SET started_at = clock_timestamp() WHERE id = $2 AND EXISTS (SELECT 1 FROM s) RETURNING id`,
      [id, attemptId, leaseMs],
    );
    return rowsOf(rows).length > 0;
  }

  /**
   * While an attachment is read from ingest and uploaded (no message call yet, which may take longer than a lease):
   * keeps this attempt's lease at least `leaseMs` from now. Fenced like markCallStarted: only the current attempt,
   * only while its lease runs and before its call started. False = this attempt lost the send.
   */
  async renewLease(em: EntityManager, id: string, attemptId: string, leaseMs: number): Promise<boolean> {
    const rows = await em.query(
      `UPDATE notifications.outbound_send SET lease_until = GREATEST(lease_until, clock_timestamp() + make_interval(secs => $3::double precision / 1000))
       WHERE id = $1 AND current_attempt_id = $2 AND status = 'sending' AND call_started_at IS NULL AND lease_until > clock_timestamp() RETURNING id`,
      [id, attemptId, leaseMs],
    );
    return rowsOf(rows).length > 0;
  }

  /** Locks the send if this attempt still owns it. */
  async lockOwned(em: EntityManager, id: string, attemptId: string): Promise<SendRow | null> {
    const rows: SendRow[] = await em.query(
      `SELECT ${COLS} FROM notifications.outbound_send WHERE id = $1 AND current_attempt_id = $2 AND status = 'sending' FOR UPDATE`,
      [id, attemptId],
    );
    return rows[0] ?? null;
  }

  async finishAttempt(em: EntityManager, attemptId: string, outcome: string, httpStatus: number | null, errorCode: number | null): Promise<void> {
    await em.query(
      `UPDATE notifications.outbound_attempt SET finished_at = clock_timestamp(), outcome = $2, http_status = $3, error_code = $4 WHERE id = $1`,
      [attemptId, outcome, httpStatus, errorCode],
    );
  }

  /**
   * The success path in one statement: mark sent (only if this attempt still owns the send), close the attempt,
   * set the pair gate to `pairMs` from now and pull sends waiting on that gate forward. False = not owned.
   */
  async completeSent(em: EntityManager, c: { id: string; attemptId: string; phoneNumberId: string; recipient: string }, waMessageId: string, httpStatus: number, pairMs: number): Promise<boolean> {
    const rows = await em.query(
      `WITH s AS (
         UPDATE notifications.outbound_send SET status = 'sent', wa_message_id = $3, sent_at = clock_timestamp(), lease_until = NULL,
           error_code = NULL, error_title = NULL, error_explanation = NULL, updated_at = clock_timestamp()
         WHERE id = $1 AND current_attempt_id = $2 AND status = 'sending' RETURNING id),
       a AS (
         UPDATE notifications.outbound_attempt SET finished_at = clock_timestamp(), outcome = 'sent', http_status = $4
         WHERE id = $2 AND EXISTS (SELECT 1 FROM s)),
       g AS (
         UPDATE notifications.pair_gate SET next_at = clock_timestamp() + make_interval(secs => $7::double precision / 1000)
         WHERE $7 > 0 AND phone_number_id = $5 AND recipient = $6 AND EXISTS (SELECT 1 FROM s)),
       w AS (
         UPDATE notifications.outbound_send SET next_attempt_at = clock_timestamp() + make_interval(secs => $7::double precision / 1000)
         WHERE $7 > 0 AND phone_number_id = $5 AND recipient = $6 AND status = 'queued'
           AND next_attempt_at > clock_timestamp() + make_interval(secs => $7::double precision / 1000) AND EXISTS (SELECT 1 FROM s))
       SELECT id FROM s`,
      [c.id, c.attemptId, waMessageId, httpStatus, c.phoneNumberId, c.recipient, pairMs],
    );
    return rows.length > 0;
  }

  async markSent(em: EntityManager, id: string, waMessageId: string): Promise<void> {
    await em.query(
      `UPDATE notifications.outbound_send SET status = 'sent', wa_message_id = $2, sent_at = clock_timestamp(), lease_until = NULL,
         error_code = NULL, error_title = NULL, error_explanation = NULL, updated_at = clock_timestamp() WHERE id = $1`,
      [id, waMessageId],
    );
  }

  async markRetry(em: EntityManager, id: string, delayMs: number, code: number | null, title: string, explanation: string): Promise<void> {
    await em.query(
      `UPDATE notifications.outbound_send SET status = 'queued', lease_until = NULL, current_attempt_id = NULL,
         next_attempt_at = clock_timestamp() + make_interval(secs => $2::double precision / 1000),
         error_code = $3, error_title = $4, error_explanation = $5, updated_at = clock_timestamp() WHERE id = $1`,
      [id, delayMs, code, title, explanation],
    );
  }

  async markFailed(em: EntityManager, id: string, status: 'failed' | 'unknown', code: number | null, title: string | null, explanation: string): Promise<void> {
    await em.query(
      `UPDATE notifications.outbound_send SET status = $2, lease_until = NULL, error_code = $3, error_title = $4,
         error_explanation = $5, updated_at = clock_timestamp() WHERE id = $1`,
      [id, status, code, title, explanation],
    );
  }

  /** Give claimed-but-never-called sends back to the queue (shutdown, lost slot). */
  async release(em: EntityManager, items: { id: string; attemptId: string }[]): Promise<void> {
    if (!items.length) return;
    await em.query(
      `UPDATE notifications.outbound_send s SET status = 'queued', lease_until = NULL, current_attempt_id = NULL, next_attempt_at = clock_timestamp(),
         attempts = GREATEST(attempts - 1, 0), updated_at = clock_timestamp()
       FROM unnest($1::uuid[], $2::uuid[]) AS t(id, attempt_id)
       WHERE s.id = t.id AND s.current_attempt_id = t.attempt_id AND s.status = 'sending' AND s.call_started_at IS NULL`,
      [items.map((i) => i.id), items.map((i) => i.attemptId)],
    );
    await em.query(`UPDATE notifications.outbound_attempt SET finished_at = clock_timestamp(), outcome = 'released' WHERE id = ANY($1::uuid[]) AND started_at IS NULL`, [
      items.map((i) => i.attemptId),
    ]);
  }

  /** Open the pair gate at `at` (ms) and pull sends waiting on it forward to then. */
  async setPairGate(em: EntityManager, phoneNumberId: string, recipient: string, delayMs: number): Promise<void> {
    await em.query(
      `UPDATE notifications.pair_gate SET next_at = clock_timestamp() + make_interval(secs => $3::double precision / 1000)
       WHERE phone_number_id = $1 AND recipient = $2`,
      [phoneNumberId, recipient, delayMs],
    );
    await em.query(
      `UPDATE notifications.outbound_send SET next_attempt_at = clock_timestamp() + make_interval(secs => $3::double precision / 1000)
       WHERE phone_number_id = $1 AND recipient = $2 AND status = 'queued'
         AND next_attempt_at > clock_timestamp() + make_interval(secs => $3::double precision / 1000)`,
      [phoneNumberId, recipient, delayMs],
    );
  }

  /** Sends whose owner vanished (lease over): never called → back to the queue; called → outcome unknown. */
  lockExpired(em: EntityManager, limit: number): Promise<(SendRow & { call_started_at: Date | null })[]> {
    return em.query(
      `SELECT ${COLS}, call_started_at FROM notifications.outbound_send
       WHERE status = 'sending' AND lease_until < clock_timestamp() LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }
}
