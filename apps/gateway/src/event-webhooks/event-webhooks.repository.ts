import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type SubscriptionStatus = 'active' | 'paused';
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface SubscriptionRow {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  secretSealed: string;
  secretLast4: string;
  status: SubscriptionStatus;
  failureStreak: number;
  pausedAt: string | null;
  pausedReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryRow {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  conversationId: string | null;
  seq: number;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const iso = (d: unknown) => (d === null || d === undefined ? null : new Date(d as string).toISOString());
const toSub = (r: Record<string, any>): SubscriptionRow => ({
  id: r.id,
  url: r.url,
  eventTypes: r.event_types,
  description: r.description,
  secretSealed: r.secret_sealed,
  secretLast4: r.secret_last4,
  status: r.status,
  failureStreak: r.failure_streak,
  pausedAt: iso(r.paused_at),
  pausedReason: r.paused_reason,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
});
const toDelivery = (r: Record<string, any>): DeliveryRow => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  eventId: r.event_id,
  eventType: r.event_type,
  conversationId: r.conversation_id,
  seq: Number(r.seq),
  body: r.body,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: iso(r.next_attempt_at)!,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: iso(r.created_at)!,
  deliveredAt: iso(r.delivered_at),
});

@Injectable()
export class EventWebhooksRepository {
  async insertSubscription(
    em: EntityManager,
    s: { url: string; eventTypes: string[]; description: string | null; secretSealed: string; secretLast4: string; createdBy: { kind: string; id: string | null }; now: Date },
  ): Promise<SubscriptionRow> {
    const rows = await em.query(
      `INSERT INTO gateway.event_subscription (url, event_types, description, secret_sealed, secret_last4, created_by_kind, created_by_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING *`,
      [s.url, s.eventTypes, s.description, s.secretSealed, s.secretLast4, s.createdBy.kind, s.createdBy.id, s.now],
    );
    return toSub(rows[0]);
  }

  async getSubscription(em: EntityManager, id: string, lock = false): Promise<SubscriptionRow | null> {
    const rows = await em.query(`SELECT * FROM gateway.event_subscription WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ? toSub(rows[0]) : null;
  }

  /** Keyset page, oldest first. */
  async listSubscriptions(em: EntityManager, after: { createdAt: string; id: string } | null, limit: number): Promise<SubscriptionRow[]> {
    const rows = await em.query(
      `SELECT * FROM gateway.event_subscription WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2::uuid)) ORDER BY created_at, id LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toSub);
  }

  async updateSubscription(
    em: EntityManager,
    id: string,
    p: { url?: string; eventTypes?: string[]; description?: string | null; secretSealed?: string; secretLast4?: string; status?: SubscriptionStatus; now: Date },
  ): Promise<SubscriptionRow> {
    const rows = await em.query(
      `UPDATE gateway.event_subscription SET url = COALESCE($2, url), event_types = COALESCE($3, event_types),
         description = CASE WHEN $4::boolean THEN $5 ELSE description END,
         secret_sealed = COALESCE($6, secret_sealed), secret_last4 = COALESCE($7, secret_last4),
         status = COALESCE($8, status),
         failure_streak = CASE WHEN $8 = 'active' AND status = 'paused' THEN 0 ELSE failure_streak END,
         paused_at = CASE WHEN $8 = 'active' THEN NULL WHEN $8 = 'paused' AND status = 'active' THEN $9 ELSE paused_at END,
         paused_reason = CASE WHEN $8 = 'active' THEN NULL WHEN $8 = 'paused' AND status = 'active' THEN 'paused by an administrator' ELSE paused_reason END,
         updated_at = $9
       WHERE id = $1 RETURNING *`,
      [id, p.url ?? null, p.eventTypes ?? null, p.description !== undefined, p.description ?? null, p.secretSealed ?? null, p.secretLast4 ?? null, p.status ?? null, p.now],
    );
    return toSub(rows[0][0]);
  }

  async deleteSubscription(em: EntityManager, id: string): Promise<void> {
    await em.query(`DELETE FROM gateway.event_subscription WHERE id = $1`, [id]);
  }

  /**
   * Subscriptions (active or paused: a paused one keeps its queue) that want this type and existed when it happened
   * (with 5 minutes' grace for clocks that differ between services), so a replayed stream never floods a new one.
   */
  async subscribersOf(em: EntityManager, eventType: string, occurredAt: string): Promise<string[]> {
    const rows = await em.query(
      `SELECT id FROM gateway.event_subscription WHERE $1 = ANY(event_types) AND created_at <= $2::timestamptz + interval '5 minutes'`,
      [eventType, occurredAt],
    );
    return rows.map((r: { id: string }) => r.id);
  }

  /** One delivery per subscription; a repeat of the same event (redelivered by JetStream) adds nothing. */
  async insertDeliveries(
    em: EntityManager,
    subscriptionIds: string[],
    d: { eventId: string; eventType: string; conversationId: string | null; seq: number; body: string; occurredAt: string; now: Date; settleMs: number },
  ): Promise<number> {
    if (!subscriptionIds.length) return 0;
    const rows = await em.query(
      `INSERT INTO gateway.event_delivery (subscription_id, event_id, event_type, conversation_id, seq, body, occurred_at, next_attempt_at, created_at)
       SELECT s, $2, $3, $4, $5, $6, $7, $9, $8 FROM unnest($1::uuid[]) AS s
       ON CONFLICT (subscription_id, event_id) DO NOTHING RETURNING id`,
      [subscriptionIds, d.eventId, d.eventType, d.conversationId, d.seq, d.body, d.occurredAt, d.now, new Date(d.now.getTime() + d.settleMs)],
    );
    return rows.length;
  }

  /** Deliveries whose sender died mid-call go back to the queue once their lease ran out. */
  async releaseExpiredLeases(em: EntityManager, now: Date): Promise<void> {
    await em.query(`UPDATE gateway.event_delivery SET status = 'pending', lease_until = NULL WHERE status = 'sending' AND lease_until < $1`, [now]);
  }

  /**
   * Claims due deliveries of active subscriptions, each the oldest unfinished one of its (subscription,
   * conversation), so a conversation's events arrive in order; SKIP LOCKED lets replicas share the work.
   */
  async claimDue(em: EntityManager, now: Date, leaseUntil: Date, limit: number): Promise<DeliveryRow[]> {
    const [rows] = await em.query(
      `WITH due AS (
         SELECT d.id FROM gateway.event_delivery d
         JOIN gateway.event_subscription s ON s.id = d.subscription_id AND s.status = 'active'
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1
           AND NOT EXISTS (SELECT 1 FROM gateway.event_delivery e
                           WHERE e.subscription_id = d.subscription_id AND e.conversation_id = d.conversation_id
                             AND e.status IN ('pending', 'sending') AND e.seq < d.seq)
         ORDER BY d.next_attempt_at, d.seq
         LIMIT $3
         FOR UPDATE OF d SKIP LOCKED)
       UPDATE gateway.event_delivery d SET status = 'sending', lease_until = $2 FROM due WHERE d.id = due.id RETURNING d.*`,
      [now, leaseUntil, limit],
    );
    return rows.map(toDelivery);
  }

  async recordAttempt(em: EntityManager, a: { deliveryId: string; at: Date; statusCode: number | null; error: string | null; durationMs: number }): Promise<void> {
    await em.query(
      `INSERT INTO gateway.event_delivery_attempt (delivery_id, attempted_at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
      [a.deliveryId, a.at, a.statusCode, a.error, a.durationMs],
    );
  }

  async markDelivered(em: EntityManager, id: string, statusCode: number, now: Date): Promise<void> {
    await em.query(
      `UPDATE gateway.event_delivery SET status = 'delivered', attempts = attempts + 1, last_status_code = $2, last_error = NULL, delivered_at = $3, lease_until = NULL WHERE id = $1`,
      [id, statusCode, now],
    );
  }

  async markFailedAttempt(em: EntityManager, id: string, p: { statusCode: number | null; error: string | null; nextAttemptAt: Date | null }): Promise<void> {
    await em.query(
      `UPDATE gateway.event_delivery SET status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
         attempts = attempts + 1, last_status_code = $2, last_error = $3, next_attempt_at = COALESCE($4, next_attempt_at), lease_until = NULL
       WHERE id = $1`,
      [id, p.statusCode, p.error, p.nextAttemptAt],
    );
  }

  /** A success resets the streak; a failure adds one. Returns the subscription after the change. */
  async bumpStreak(em: EntityManager, id: string, ok: boolean): Promise<SubscriptionRow | null> {
    const rows = await em.query(
      `UPDATE gateway.event_subscription SET failure_streak = CASE WHEN $2 THEN 0 ELSE failure_streak + 1 END WHERE id = $1 RETURNING *`,
      [id, ok],
    );
    return rows[0]?.[0] ? toSub(rows[0][0]) : null;
  }

  /** Pauses an active subscription (returns false when it was not active). */
  async pause(em: EntityManager, id: string, reason: string, now: Date): Promise<boolean> {
    const rows = await em.query(
      `UPDATE gateway.event_subscription SET status = 'paused', paused_at = $3, paused_reason = $2, updated_at = $3 WHERE id = $1 AND status = 'active' RETURNING id`,
      [id, reason, now],
    );
    return rows[0].length > 0;
  }

  async listDeliveries(
    em: EntityManager,
    subscriptionId: string,
    f: { status?: DeliveryStatus; beforeSeq: number | null; limit: number },
  ): Promise<(DeliveryRow & { attemptLog: { at: string; statusCode: number | null; error: string | null; durationMs: number }[] })[]> {
    const rows = await em.query(
      `SELECT d.*, COALESCE((SELECT json_agg(json_build_object('at', a.attempted_at, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms) ORDER BY a.id)
                            FROM gateway.event_delivery_attempt a WHERE a.delivery_id = d.id), '[]') AS attempt_log
       FROM gateway.event_delivery d
       WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.seq < $3)
       ORDER BY d.seq DESC, d.id LIMIT $4`,
      [subscriptionId, f.status ?? null, f.beforeSeq, f.limit],
    );
    return rows.map((r: Record<string, any>) => ({
      ...toDelivery(r),
      attemptLog: r.attempt_log.map((a: Record<string, any>) => ({ at: iso(a.at)!, statusCode: a.statusCode, error: a.error, durationMs: a.durationMs })),
    }));
  }

  async getDelivery(em: EntityManager, subscriptionId: string, id: string, lock = false): Promise<DeliveryRow | null> {
    const rows = await em.query(`SELECT * FROM gateway.event_delivery WHERE id = $1 AND subscription_id = $2${lock ? ' FOR UPDATE' : ''}`, [id, subscriptionId]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  /** Queues a delivery again, now (it keeps its place in its conversation's order). */
  async requeue(em: EntityManager, id: string, now: Date): Promise<void> {
    await em.query(`UPDATE gateway.event_delivery SET status = 'pending', next_attempt_at = $2, lease_until = NULL WHERE id = $1`, [id, now]);
  }

  async activeAdminIds(em: EntityManager): Promise<string[]> {
    const rows = await em.query(`SELECT id FROM gateway.app_user WHERE role = 'admin' AND disabled_at IS NULL ORDER BY created_at LIMIT 500`);
    return rows.map((r: { id: string }) => r.id);
  }
}
