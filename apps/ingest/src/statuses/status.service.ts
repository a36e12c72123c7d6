import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { MessageStatusChangedV1 } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { lockKey, one, rows } from '../db.util';
import { MessageRepository, type MessageRow } from '../messages/message.repository';
import type { NormalizedStatus, WaError } from '../normalize/normalized.types';
import { mergeStatus } from './status-rank';

export const wamidLockKey = (phoneNumberId: string, waMessageId: string) => `ingest-wamid:${phoneNumberId}:${waMessageId}`;

/**
 * Delivery statuses of outbound messages. Every status is stored once per (number, wamid, status, timestamp);
 * one for a message not known yet waits (message_id NULL) and is applied when the message becomes known.
 */
@Injectable()
export class StatusService {
  constructor(
    private readonly messages: MessageRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Returns 'duplicate', 'pending' (message unknown) or 'applied'. */
  async applyWebhookStatus(em: EntityManager, s: NormalizedStatus, receiptId: string): Promise<'duplicate' | 'pending' | 'applied'> {
    const pnid = s.number.phoneNumberId;
    await lockKey(em, wamidLockKey(pnid, s.waMessageId));
    const stored = await one<{ id: string }>(
      em,
      `INSERT INTO ingest.message_status (phone_number_id, wa_message_id, status, status_at, errors, raw, receipt_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT message_status_uq DO NOTHING RETURNING id`,
      [pnid, s.waMessageId, s.status, s.statusAt, JSON.stringify(s.errors), JSON.stringify(s.raw), receiptId],
    );
    if (!stored) return 'duplicate';
    const message = await this.messages.findByWamid(em, pnid, s.waMessageId);
    if (!message || message.direction !== 'outbound') return 'pending';
    await this.apply(em, message, { id: stored.id, status: s.status, statusAt: s.statusAt, errors: s.errors });
    return 'applied';
  }

  /** Applies statuses that arrived before the message was known (call with the wamid lock held). */
  async applyPending(em: EntityManager, message: MessageRow): Promise<void> {
    if (!message.wa_message_id || message.direction !== 'outbound') return;
    const pending = await rows<{ id: string; status: string; status_at: Date; errors: WaError[] }>(
      em,
      `SELECT id, status, status_at, errors FROM ingest.message_status
       WHERE phone_number_id = $1 AND wa_message_id = $2 AND message_id IS NULL ORDER BY status_at, created_at`,
      [message.phone_number_id, message.wa_message_id],
    );
    for (const p of pending) await this.apply(em, message, { id: p.id, status: p.status, statusAt: p.status_at, errors: p.errors });
  }

  /** Moves the message's status if the rank merge says so; errors are recorded either way. */
  async move(
    em: EntityManager,
    message: MessageRow,
    status: string,
    at: Date | null,
    errors: Array<Partial<WaError> & Record<string, unknown>>,
  ): Promise<boolean> {
    await this.messages.appendErrors(em, message.id, errors);
    const next = mergeStatus(message.status, status);
    if (!next) return false;
    await this.messages.setStatus(em, message.id, next, at);
    message.status = next;
    if (message.wa_message_id) {
      await this.outbox.add(em, MessageStatusChangedV1, {
        eventId: randomUUID(),
        occurredAt: (at ?? new Date()).toISOString(),
        conversationId: message.conversation_id,
        messageId: message.id,
        waMessageId: message.wa_message_id,
        status: next,
        errors: errors.map((e) => ({ code: e.code ?? null, title: e.title ?? null, details: e.details ?? e.message ?? null })),
      });
    }
    return true;
  }

  private async apply(
    em: EntityManager,
    message: MessageRow,
    s: { id: string; status: string; statusAt: Date; errors: WaError[] },
  ): Promise<void> {
    await em.query(`UPDATE ingest.message_status SET message_id = $2 WHERE id = $1`, [s.id, message.id]);
    await this.move(em, message, s.status, s.statusAt, s.errors.map((e) => ({ ...e, source: 'status', status: s.status })));
  }
}
