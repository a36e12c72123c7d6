import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { WebhookReceivedV1 } from '@app/contracts';

@Injectable()
export class WebhookReceiptRepository {
  /**
   * Stores the raw body and its outbox event in one statement (one round trip, one commit): the receipt is the
   * record, the outbox row is what the relay hands to JetStream.
   */
  async insertWithEvent(em: EntityManager, r: { id: string; appIndex: number; body: string; byteLength: number }): Promise<void> {
    const receivedAt = new Date().toISOString();
    await em.query(
      `WITH receipt AS (
         INSERT INTO gateway.webhook_receipt (id, received_at, app_index, body, byte_length)
         VALUES ($1, $2, $3, $4, $5) RETURNING id)
       INSERT INTO gateway.outbox (id, subject, payload, correlation_id)
       SELECT id, $6, jsonb_build_object('eventId', id, 'occurredAt', $2::text, 'body', $4::text), $7 FROM receipt`,
      [r.id, receivedAt, r.appIndex, r.body, r.byteLength, WebhookReceivedV1.subject, r.id],
    );
  }

  async countSince(em: EntityManager, since: Date): Promise<number> {
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM gateway.webhook_receipt WHERE received_at >= $1`, [since]);
    return n;
  }
}
