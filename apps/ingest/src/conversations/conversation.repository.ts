import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConversationSummary } from '@app/contracts';
import { one, rows } from '../db.util';

export interface ConversationRow {
  id: string;
  phone_number_id: string;
  contact_id: string;
  status: 'open' | 'resolved';
}

const SUMMARY_SELECT = `SELECT c.id, c.phone_number_id, c.status, c.last_message_at, c.last_message_at::text AS cursor_at,
    c.last_inbound_at, c.last_message_text, c.message_count, c.created_at,
    k.id AS contact_id, k.profile_name, k.wa_id, k.user_id, k.blocked_at
  FROM ingest.conversation c JOIN ingest.contact k ON k.id = c.contact_id`;

/** One conversation per (business phone_number_id, contact). */
@Injectable()
export class ConversationRepository {
  /** Finds or creates the conversation and locks it for the rest of the transaction. */
  async findOrCreateLocked(
    em: EntityManager,
    phoneNumberId: string,
    contactId: string,
    firstMessageAt: Date,
  ): Promise<{ conversation: ConversationRow; created: boolean }> {
    const found = await one<ConversationRow>(
      em,
      `SELECT id, phone_number_id, contact_id, status FROM ingest.conversation
       WHERE phone_number_id = $1 AND contact_id = $2 FOR UPDATE`,
      [phoneNumberId, contactId],
    );
    if (found) return { conversation: found, created: false };
    const inserted = await one<ConversationRow>(
      em,
      `INSERT INTO ingest.conversation (phone_number_id, contact_id, last_message_at) VALUES ($1, $2, $3)
       ON CONFLICT (phone_number_id, contact_id) DO NOTHING RETURNING id, phone_number_id, contact_id, status`,
      [phoneNumberId, contactId, firstMessageAt],
    );
    if (inserted) return { conversation: inserted, created: true };
    const existing = await one<ConversationRow>(
      em,
      `SELECT id, phone_number_id, contact_id, status FROM ingest.conversation
       WHERE phone_number_id = $1 AND contact_id = $2 FOR UPDATE`,
      [phoneNumberId, contactId],
    );
    return { conversation: existing!, created: false };
  }

  /**
   * A conversation a blocked contact opened starts resolved and unrouted: if the contact is unblocked, their next
   * message reopens it (ConversationOpenedV1 with `reopened: true`, which creates routing's work item).
   */
  async parkBlocked(em: EntityManager, c: ConversationRow, at: Date): Promise<void> {
    await em.query(`UPDATE ingest.conversation SET status = 'resolved', status_changed_at = $2, resolved_by = 'blocked' WHERE id = $1`, [c.id, at]);
    c.status = 'resolved';
  }

  /** Whether the contact has another conversation (e.g. with another business number). */
  async contactHasOther(em: EntityManager, contactId: string, conversationId: string): Promise<boolean> {
    const r = await em.query(`SELECT 1 FROM ingest.conversation WHERE contact_id = $1 AND id <> $2 LIMIT 1`, [contactId, conversationId]);
    return r.length > 0;
  }

  findLocked(em: EntityManager, id: string): Promise<ConversationRow | undefined> {
    return one<ConversationRow>(em, `SELECT id, phone_number_id, contact_id, status FROM ingest.conversation WHERE id = $1 FOR UPDATE`, [id]);
  }

  /**
   * Records a new message in the thread. Customer messages move `last_inbound_at` (the 24 h window) and reopen a
   * resolved conversation; echoes and outbound messages do neither. Returns true when it reopened.
   * The list's last message is compared by the second: WhatsApp stamps a customer's message in whole seconds while
   * our own sends carry milliseconds, so a customer writing in the same second as a reply went out would otherwise
   * lose to it; within one second the message recorded later wins.
   */
  async recordMessage(
    em: EntityManager,
    c: ConversationRow,
    m: { sentAt: Date; text: string; customer: boolean; receivedAt: Date },
  ): Promise<boolean> {
    const reopen = m.customer && c.status === 'resolved';
    await em.query(
      `UPDATE ingest.conversation SET
         message_count = message_count + 1,
         last_message_text = CASE WHEN date_trunc('second', $2::timestamptz) >= date_trunc('second', last_message_at) OR message_count = 0 THEN $3 ELSE last_message_text END,
         last_message_at = GREATEST(last_message_at, $2),
         last_inbound_at = CASE WHEN $4 THEN GREATEST(COALESCE(last_inbound_at, $2), $2) ELSE last_inbound_at END,
         status = CASE WHEN $5 THEN 'open' ELSE status END,
         status_changed_at = CASE WHEN $5 THEN GREATEST(COALESCE(status_changed_at, $6), $6) ELSE status_changed_at END,
         resolved_by = CASE WHEN $5 THEN NULL ELSE resolved_by END,
         updated_at = now()
       WHERE id = $1`,
      [c.id, m.sentAt, m.text.slice(0, 500), m.customer, reopen, m.receivedAt],
    );
    if (reopen) c.status = 'open';
    return reopen;
  }

  /**
   * Marks resolved unless it was reopened after `at` (events may arrive out of order), or the customer wrote
   * after `at` (the resolve was decided before that message; routing reopens the work item). True when it changed.
   */
  async resolve(em: EntityManager, id: string, at: Date, by: string | null): Promise<boolean> {
    const changed = await rows(
      em,
      `UPDATE ingest.conversation SET status = 'resolved', status_changed_at = $2, resolved_by = $3, updated_at = now()
       WHERE id = $1 AND status = 'open' AND (status_changed_at IS NULL OR status_changed_at <= $2)
         AND (last_inbound_at IS NULL OR last_inbound_at <= $2) RETURNING id`,
      [id, at, by],
    );
    return changed.length > 0;
  }

  async summary(em: EntityManager, id: string): Promise<ConversationSummary | null> {
    const row = await one(em, `${SUMMARY_SELECT} WHERE c.id = $1`, [id]);
    return row ? toSummary(row) : null;
  }

  /** Newest activity first; the cursor is (last_message_at, id) of the last row returned. */
  async list(
    em: EntityManager,
    q: { limit: number; after?: { at: string; id: string }; phoneNumberId?: string; ids?: string[] },
  ): Promise<{ items: ConversationSummary[]; last?: { at: string; id: string } }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.after) {
      params.push(q.after.at, q.after.id);
      where.push(`(c.last_message_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    if (q.phoneNumberId) {
      params.push(q.phoneNumberId);
      where.push(`c.phone_number_id = $${params.length}`);
    }
    if (q.ids) {
      params.push(q.ids);
      where.push(`c.id = ANY($${params.length}::uuid[])`);
    }
    params.push(q.limit + 1);
    const found = await rows(
      em,
      `${SUMMARY_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY c.last_message_at DESC, c.id DESC LIMIT $${params.length}`,
      params,
    );
    const page = found.slice(0, q.limit);
    const lastRow = found.length > q.limit ? page[page.length - 1] : undefined;
    return { items: page.map(toSummary), last: lastRow ? { at: lastRow.cursor_at, id: lastRow.id } : undefined };
  }

  /**
   * Ids of conversations whose contact name, wa_id or user_id, or any message text, contains `q`
   * (or whose wa_id contains the digits of a phone number typed with spaces, `+`, dashes or brackets)
   * (case-insensitive, literally: LIKE wildcards are escaped), newest activity first.
   */
  async search(em: EntityManager, q: string, limit: number): Promise<string[]> {
    const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // a phone number as people type it (`+49 170-123`) matches the digits of wa_id
    const digits = q.replace(/[\s+()\-.]/g, '');
    const phone = /^\d{2,}$/.test(digits) ? `%${digits}%` : null;
    const found = await em.query(
      `SELECT c.id FROM ingest.conversation c
       WHERE c.id IN (
         SELECT c2.id FROM ingest.conversation c2 JOIN ingest.contact k ON k.id = c2.contact_id
           WHERE k.profile_name ILIKE $1 ESCAPE '\\' OR k.wa_id ILIKE $1 ESCAPE '\\' OR k.user_id ILIKE $1 ESCAPE '\\'
             OR k.wa_id LIKE $3
         UNION
         SELECT m.conversation_id FROM ingest.message m WHERE m.text ILIKE $1 ESCAPE '\\')
       ORDER BY c.last_message_at DESC, c.id DESC LIMIT $2`,
      [pattern, limit, phone],
    );
    return found.map((r: { id: string }) => r.id);
  }
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toSummary(r: Record<string, any>): ConversationSummary {
  return {
    id: r.id,
    phoneNumberId: r.phone_number_id,
    contact: { id: r.contact_id, name: r.profile_name, waId: r.wa_id, userId: r.user_id, blocked: r.blocked_at !== null },
    status: r.status,
    lastMessageAt: iso(r.last_message_at)!,
    lastInboundAt: iso(r.last_inbound_at),
    lastMessageText: r.last_message_text,
    messageCount: Number(r.message_count),
    createdAt: iso(r.created_at)!,
  };
}
