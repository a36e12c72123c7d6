import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export const TIMER_KINDS = ['clock.warning', 'clock.breach', 'window.warning', 'reminder', 'follow-up', 'action', 'resync'] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

export interface TimerRow {
  id: string;
  kind: TimerKind;
  conversation_id: string;
  ref: string;
  due_at: Date;
  payload: Record<string, any> | null;
  attempts: number;
}

/**
 * The one durable timer table. A (kind, conversation, ref) has at most one pending row; scheduling again moves
 * it. Replicas claim due rows with FOR UPDATE SKIP LOCKED, so each row is fired by exactly one transaction.
 */
@Injectable()
export class TimerRepository {
  async schedule(em: EntityManager, kind: TimerKind, conversationId: string, ref: string, dueAt: Date, payload: unknown = null): Promise<void> {
    await em.query(
      `INSERT INTO sla.timer (kind, conversation_id, ref, due_at, payload) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (kind, conversation_id, ref) WHERE status = 'pending' DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload`,
      [kind, conversationId, ref, dueAt, payload === null ? null : JSON.stringify(payload)],
    );
  }

  /**
   * Re-evaluates the clocks of a team's open conversations soon (a policy or its calendar changed): one `resync`
   * timer per conversation, fired by any replica like the others.
   */
  async resyncTeams(em: EntityManager, teamIds: string[], at: Date): Promise<void> {
    await em.query(
      `INSERT INTO sla.timer (kind, conversation_id, due_at)
       SELECT 'resync', conversation_id, $2 FROM sla.conversation
       WHERE team_id = ANY($1::uuid[]) AND status <> 'resolved' AND cycle_start_at IS NOT NULL
       ON CONFLICT DO NOTHING`,
      [teamIds, at],
    );
  }

  /** Cancels pending timers of a conversation (of one kind, optionally one ref). */
  async cancel(em: EntityManager, conversationId: string, kinds: TimerKind[], ref?: string): Promise<void> {
    await em.query(
      `UPDATE sla.timer SET status = 'cancelled' WHERE conversation_id = $1 AND kind = ANY($2) AND status = 'pending' AND ($3::text IS NULL OR ref = $3)`,
      [conversationId, kinds, ref ?? null],
    );
  }

  /**
   * Claims up to `limit` due rows (not actions) and marks them fired in the caller's transaction: if it rolls
   * back (crash, killed connection) they are pending again for any replica.
   */
  async claimDue(em: EntityManager, now: Date, limit: number, by: string, lateMs: number): Promise<(TimerRow & { late: boolean })[]> {
    const rows: (TimerRow & { late: boolean })[] = await em.query(
      `WITH due AS (
         SELECT id FROM sla.timer WHERE status = 'pending' AND due_at <= $1 AND kind <> 'action'
         ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE sla.timer t SET status = 'fired', fired_at = $1, fired_by = $3,
         late = t.due_at < $1::timestamptz - make_interval(secs => $4::double precision / 1000)
       FROM due WHERE t.id = due.id
       RETURNING t.id, t.kind, t.conversation_id, t.ref, t.due_at, t.payload, t.attempts, t.late`,
      [now, limit, by, lateMs],
    );
    // by due time; at the same time in TIMER_KINDS order (a clock's warning before its breach)
    return (Array.isArray(rows[0]) ? (rows[0] as unknown as (TimerRow & { late: boolean })[]) : rows).sort(
      (a, b) => +a.due_at - +b.due_at || TIMER_KINDS.indexOf(a.kind) - TIMER_KINDS.indexOf(b.kind),
    );
  }

  /** One due action (a call to another service), locked for the caller's transaction. */
  async claimAction(em: EntityManager, now: Date): Promise<TimerRow | null> {
    const [row] = await em.query(
      `SELECT id, kind, conversation_id, ref, due_at, payload, attempts FROM sla.timer
       WHERE status = 'pending' AND kind = 'action' AND due_at <= $1 ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    return row ?? null;
  }

  /** A claimed action is left to its claimer until `until` (the due time moves; a dead claimer's lease expires). */
  async lease(em: EntityManager, id: string, until: Date): Promise<void> {
    await em.query(`UPDATE sla.timer SET due_at = $2 WHERE id = $1`, [id, until]);
  }

  /** Done: `late` given when the due time was moved by a lease (it is then computed from the original). */
  async finish(em: EntityManager, id: string, now: Date, by: string, lateMs: number, late?: boolean): Promise<void> {
    await em.query(
      `UPDATE sla.timer SET status = 'fired', fired_at = $2, fired_by = $3,
         late = coalesce($5, due_at < $2::timestamptz - make_interval(secs => $4::double precision / 1000))
       WHERE id = $1 AND status = 'pending'`,
      [id, now, by, lateMs, late ?? null],
    );
  }

  /** A failed attempt: try again later, or give up after `maxAttempts`. */
  async retryLater(em: EntityManager, id: string, at: Date, error: string, maxAttempts: number): Promise<void> {
    await em.query(
      `UPDATE sla.timer SET attempts = attempts + 1, due_at = $2, last_error = $3,
         status = CASE WHEN attempts + 1 >= $4 THEN 'failed' ELSE status END WHERE id = $1 AND status = 'pending'`,
      [id, at, error.slice(0, 500), maxAttempts],
    );
  }
}
