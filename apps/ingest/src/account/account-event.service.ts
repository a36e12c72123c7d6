import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { WhatsAppAccountEventV1 } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { one } from '../db.util';
import type { NormalizedAccountEvent } from '../normalize/normalized.types';

/**
 * Webhook fields that are not messages (template status/quality, number quality, account updates, app state
 * sync, user preferences, calls, value-level errors, …): recorded once (deduped by a hash of the change, since
 * Meta's retries arrive as new receipts) and published as WhatsAppAccountEventV1.
 */
@Injectable()
export class AccountEventService {
  constructor(private readonly outbox: OutboxWriter) {}

  async apply(em: EntityManager, e: NormalizedAccountEvent, receiptId: string, receivedAt: Date): Promise<boolean> {
    const id = randomUUID();
    const inserted = await one(
      em,
      `INSERT INTO ingest.account_event (id, dedupe_key, field, waba_id, phone_number_id, value, receipt_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT account_event_dedupe_uq DO NOTHING RETURNING id`,
      [id, e.dedupeKey, e.field, e.wabaId, e.number?.phoneNumberId ?? null, JSON.stringify(e.value), receiptId],
    );
    if (!inserted) return false;
    await this.outbox.add(em, WhatsAppAccountEventV1, {
      eventId: id,
      occurredAt: receivedAt.toISOString(),
      field: e.field,
      wabaId: e.wabaId,
      phoneNumberId: e.number?.phoneNumberId ?? null,
      value: e.value,
    });
    return true;
  }
}
