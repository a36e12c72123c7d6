import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { WebhookReceivedV1 } from '@app/contracts';

export interface NewReceipt {
  id: string;
  appIndex: number;
  body: string;
  byteLength: number;
}

@Injectable()
export class WebhookReceiptRepository {
  /**
   * Stores raw bodies and their outbox events in one statement (one round trip, one commit for all of them): the
   * receipt is the record, the outbox row is what the relay hands to JetStream. Rows go in the given order.
   */
  async insertManyWithEvents(em: EntityManager, rs: NewReceipt[]): Promise<void> {
    const receivedAt = new Date().toISOString();
    await em.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::smallint[], $3::text[], $4::int[]) WITH ORDINALITY AS t(id, app_index, body, byte_length, n)),
       receipt AS (
         INSERT INTO gateway.webhook_receipt (id, received_at, app_index, body, byte_length)
         SELECT id, $5::timestamptz, app_index, body, byte_length FROM input ORDER BY n RETURNING id)
       INSERT INTO gateway.outbox (id, subject, payload, correlation_id)
       SELECT i.id, $6, jsonb_build_object('eventId', i.id, 'occurredAt', $5::text, 'body', i.body), i.id::text
       FROM input i JOIN receipt r ON r.id = i.id ORDER BY i.n`,
      [rs.map((r) => r.id), rs.map((r) => r.appIndex), rs.map((r) => r.body), rs.map((r) => r.byteLength), receivedAt, WebhookReceivedV1.subject],
    );
  }

  async countSince(em: EntityManager, since: Date): Promise<number> {
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM gateway.webhook_receipt WHERE received_at >= $1`, [since]);
    return n;
  }
}
