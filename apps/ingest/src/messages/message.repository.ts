import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { MessageView } from '@app/contracts';
import { one, rows } from '../db.util';

export interface NewMessage {
  conversationId: string;
  phoneNumberId: string;
  waMessageId: string | null;
  sendId?: string | null;
  direction: 'inbound' | 'outbound';
  origin: 'customer' | 'echo' | 'inbox' | 'system';
  type: string;
  text: string;
  content: unknown;
  referral?: unknown;
  context?: unknown;
  contextWaMessageId?: string | null;
  forwarded?: boolean;
  frequentlyForwarded?: boolean;
  errors?: unknown[];
  status?: string | null;
  sentAt: Date;
  receiptId?: string | null;
}

export interface MessageRow {
  id: string;
  conversation_id: string;
  phone_number_id: string;
  wa_message_id: string | null;
  direction: 'inbound' | 'outbound';
  status: string | null;
}

const ROW = 'id, conversation_id, phone_number_id, wa_message_id, direction, status';
const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

@Injectable()
export class MessageRepository {
  findByWamid(em: EntityManager, phoneNumberId: string, waMessageId: string): Promise<MessageRow | undefined> {
    return one<MessageRow>(em, `SELECT ${ROW} FROM ingest.message WHERE phone_number_id = $1 AND wa_message_id = $2 FOR UPDATE`, [
      phoneNumberId,
      waMessageId,
    ]);
  }

  findBySendId(em: EntityManager, sendId: string): Promise<MessageRow | undefined> {
    return one<MessageRow>(em, `SELECT ${ROW} FROM ingest.message WHERE send_id = $1 FOR UPDATE`, [sendId]);
  }

  /** Inserts unless the wamid (per number) or send id is already stored; undefined on a duplicate. */
  async insert(em: EntityManager, m: NewMessage): Promise<MessageRow | undefined> {
    const contextMessageId = m.contextWaMessageId
      ? (await one<{ id: string }>(em, `SELECT id FROM ingest.message WHERE phone_number_id = $1 AND wa_message_id = $2`, [
          m.phoneNumberId,
          m.contextWaMessageId,
        ]))?.id ?? null
      : null;
    // one statement: insert, and point replies that quoted this wamid before it was known at the new row
    const row = await one<MessageRow>(
      em,
      `WITH ins AS (INSERT INTO ingest.message (conversation_id, phone_number_id, wa_message_id, send_id, direction, origin, type, text,
         content, referral, context, context_wa_message_id, context_message_id, forwarded, frequently_forwarded, errors,
         status, status_updated_at, sent_at, receipt_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
         CASE WHEN $17::text IS NULL THEN NULL ELSE clock_timestamp() END, $18, $19)
       ON CONFLICT DO NOTHING RETURNING ${ROW}),
       linked AS (UPDATE ingest.message r SET context_message_id = ins.id FROM ins
         WHERE ins.wa_message_id IS NOT NULL AND r.phone_number_id = ins.phone_number_id
           AND r.context_wa_message_id = ins.wa_message_id AND r.context_message_id IS NULL)
       SELECT * FROM ins`,
      [
        m.conversationId, m.phoneNumberId, m.waMessageId, m.sendId ?? null, m.direction, m.origin, m.type, m.text,
        JSON.stringify(m.content ?? null), json(m.referral), json(m.context), m.contextWaMessageId ?? null, contextMessageId,
        m.forwarded ?? false, m.frequentlyForwarded ?? false, JSON.stringify(m.errors ?? []), m.status ?? null, m.sentAt,
        m.receiptId ?? null,
      ],
    );
    return row;
  }

  /** Messages that quoted this wamid before it was known now point at it. */
  async linkRepliesTo(em: EntityManager, m: MessageRow): Promise<void> {
    await em.query(
      `UPDATE ingest.message SET context_message_id = $1
       WHERE phone_number_id = $2 AND context_wa_message_id = $3 AND context_message_id IS NULL AND id <> $1`,
      [m.id, m.phone_number_id, m.wa_message_id],
    );
  }

  /** Gives an outbound message its wamid (when notifications reports the send). False if taken by another message. */
  async linkWamid(em: EntityManager, m: MessageRow, waMessageId: string): Promise<boolean> {
    const taken = await one(em, `SELECT 1 FROM ingest.message WHERE phone_number_id = $1 AND wa_message_id = $2`, [m.phone_number_id, waMessageId]);
    if (taken) return false;
    await em.query(`UPDATE ingest.message SET wa_message_id = $2 WHERE id = $1`, [m.id, waMessageId]);
    m.wa_message_id = waMessageId;
    await this.linkRepliesTo(em, m);
    return true;
  }

  async setStatus(em: EntityManager, id: string, status: string, at: Date | null): Promise<void> {
    await em.query(`UPDATE ingest.message SET status = $2, status_at = $3, status_updated_at = clock_timestamp() WHERE id = $1`, [
      id,
      status,
      at,
    ]);
  }

  async appendErrors(em: EntityManager, id: string, errors: unknown[]): Promise<void> {
    if (errors.length === 0) return;
    await em.query(`UPDATE ingest.message SET errors = errors || $2::jsonb WHERE id = $1`, [id, JSON.stringify(errors)]);
  }

  /** In thread order: WhatsApp timestamp, then arrival. */
  async list(
    em: EntityManager,
    conversationId: string,
    limit: number,
    after?: { at: string; seq: string },
    order: 'oldest' | 'newest' = 'oldest',
  ): Promise<{ items: MessageView[]; last?: { at: string; seq: string } }> {
    const params: unknown[] = [conversationId];
    const newest = order === 'newest';
    let cond = '';
    if (after) {
      params.push(after.at, after.seq);
      cond = `AND (m.sent_at, m.seq) ${newest ? '<' : '>'} ($2::timestamptz, $3::bigint)`;
    }
    params.push(limit + 1);
    const found = await rows(
      em,
      `SELECT m.*, m.sent_at::text AS cursor_at, m.seq::text AS cursor_seq,
         md.media_id, md.mime_type, md.size, md.sha256, md.state AS media_state
       FROM ingest.message m LEFT JOIN ingest.media md ON md.message_id = m.id
       WHERE m.conversation_id = $1 ${cond}
       ORDER BY m.sent_at ${newest ? 'DESC' : 'ASC'}, m.seq ${newest ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params,
    );
    const page = found.slice(0, limit);
    const lastRow = found.length > limit ? page[page.length - 1] : undefined;
    return { items: page.map(toView), last: lastRow ? { at: lastRow.cursor_at, seq: lastRow.cursor_seq } : undefined };
  }
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toView(r: Record<string, any>): MessageView {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    waMessageId: r.wa_message_id,
    direction: r.direction,
    origin: r.origin,
    type: r.type,
    text: r.text,
    content: r.content,
    status: r.status,
    errors: r.errors ?? [],
    contextWaMessageId: r.context_wa_message_id,
    contextMessageId: r.context_message_id,
    forwarded: r.forwarded || r.frequently_forwarded,
    media: r.media_id
      ? {
          mediaId: r.media_id,
          mimeType: r.mime_type,
          size: r.size === null ? null : Number(r.size),
          sha256: r.sha256,
          state: r.media_state,
          url: r.media_state === 'stored' ? `/api/v1/media/${r.id}` : null,
        }
      : null,
    sentAt: iso(r.sent_at)!,
    createdAt: iso(r.created_at)!,
    statusUpdatedAt: iso(r.status_updated_at),
    referral: r.referral ?? null,
  };
}
