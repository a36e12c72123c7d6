import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AutoReply, AutoReplyKind, RequestInputOf, PutAutoReplyV1 } from '@app/contracts';

const COLS = `id, kind, team_id, phone_number_id, text, period_minutes, enabled, sent_count, error_count, last_error, updated_at`;
type Row = Record<string, unknown>;
const toReply = (r: Row): AutoReply => ({
  id: r.id as string,
  kind: r.kind as AutoReplyKind,
  teamId: (r.team_id as string | null) ?? null,
  phoneNumberId: (r.phone_number_id as string | null) ?? null,
  text: r.text as string,
  periodMinutes: Number(r.period_minutes),
  enabled: r.enabled as boolean,
  sentCount: Number(r.sent_count),
  errorCount: Number(r.error_count),
  lastError: (r.last_error as string | null) ?? null,
  updatedAt: new Date(r.updated_at as string).toISOString(),
});

/** The greeting/away replies and the per-conversation send guard. */
@Injectable()
export class AutoReplyRepository {
  async put(em: EntityManager, r: RequestInputOf<typeof PutAutoReplyV1>['reply'] & { periodMinutes: number; enabled: boolean }): Promise<AutoReply> {
    const conflict = r.teamId ? `(kind, team_id) WHERE team_id IS NOT NULL` : `(kind, phone_number_id) WHERE phone_number_id IS NOT NULL`;
    const rows = await em.query(
      `INSERT INTO routing.auto_reply (id, kind, team_id, phone_number_id, text, period_minutes, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT ${conflict} DO UPDATE SET text = EXCLUDED.text, period_minutes = EXCLUDED.period_minutes,
         enabled = EXCLUDED.enabled, updated_at = now()
       RETURNING ${COLS}`,
      [randomUUID(), r.kind, r.teamId ?? null, r.phoneNumberId ?? null, r.text, r.periodMinutes, r.enabled],
    );
    return toReply(rows[0]);
  }

  async list(em: EntityManager, teamIds: string[] | null): Promise<AutoReply[]> {
    const rows = teamIds
      ? await em.query(`SELECT ${COLS} FROM routing.auto_reply WHERE team_id = ANY($1) ORDER BY kind, updated_at`, [teamIds])
      : await em.query(`SELECT ${COLS} FROM routing.auto_reply ORDER BY kind, updated_at`);
    return rows.map(toReply);
  }

  async get(em: EntityManager, id: string): Promise<AutoReply | null> {
    const rows = await em.query(`SELECT ${COLS} FROM routing.auto_reply WHERE id = $1`, [id]);
    return rows[0] ? toReply(rows[0]) : null;
  }

  async delete(em: EntityManager, id: string): Promise<boolean> {
    const [, count] = await em.query(`DELETE FROM routing.auto_reply WHERE id = $1`, [id]); // DELETE: [rows, count]
    return count > 0;
  }

  /** Every enabled reply (a replica's copy: there are a few per number and team). */
  async enabled(em: EntityManager): Promise<AutoReply[]> {
    return (await em.query(`SELECT ${COLS} FROM routing.auto_reply WHERE enabled`)).map(toReply);
  }

  /**
   * Claims the send for this conversation: true when no send happened within the period (the row is taken for this
   * event), or when this same event claimed it before and its send did not finish (a redelivery resends with the
   * same idempotency key). One atomic upsert: replicas racing on the same conversation never both send.
   */
  async claim(em: EntityManager, kind: AutoReplyKind, conversationId: string, eventId: string, at: Date, periodMinutes: number): Promise<boolean> {
    const rows = await em.query(
      `INSERT INTO routing.auto_reply_sent (kind, conversation_id, sent_at, event_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (kind, conversation_id) DO UPDATE SET sent_at = EXCLUDED.sent_at, event_id = EXCLUDED.event_id, done = false
         WHERE routing.auto_reply_sent.sent_at <= EXCLUDED.sent_at - make_interval(mins => $5::int)
       RETURNING event_id`,
      [kind, conversationId, at, eventId, periodMinutes],
    );
    if (rows.length) return true;
    const again = await em.query(`SELECT 1 FROM routing.auto_reply_sent WHERE kind = $1 AND conversation_id = $2 AND event_id = $3 AND NOT done`, [
      kind,
      conversationId,
      eventId,
    ]);
    return again.length > 0;
  }

  async done(em: EntityManager, kind: AutoReplyKind, conversationId: string): Promise<void> {
    await em.query(`UPDATE routing.auto_reply_sent SET done = true WHERE kind = $1 AND conversation_id = $2`, [kind, conversationId]);
  }

  async sent(em: EntityManager, replyId: string, kind: AutoReplyKind, conversationId: string): Promise<void> {
    await this.done(em, kind, conversationId);
    await em.query(`UPDATE routing.auto_reply SET sent_count = sent_count + 1 WHERE id = $1`, [replyId]);
  }

  async failed(em: EntityManager, replyId: string, error: string): Promise<void> {
    await em.query(`UPDATE routing.auto_reply SET error_count = error_count + 1, last_error = $2 WHERE id = $1`, [replyId, error.slice(0, 500)]);
  }
}
