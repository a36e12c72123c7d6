import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { WebhookReceivedV1 } from '@app/contracts';

const ERASED_BODY = '{"erased":true}';

/**
 * GDPR erasure on the gateway's side: the raw webhook bodies it keeps (`webhook_receipt`, and the relayed outbox
 * rows carrying them) that mention one of the person's WhatsApp ids as a JSON string are replaced by
 * `{"erased":true}`. A receipt whose event is not yet relayed is left alone (ingest has not stored it yet).
 * A scan of the receipts (no index on the body): erasures are rare, admin-only requests.
 */
@Injectable()
export class ReceiptErasureRepository {
  async redactMentioning(em: EntityManager, keys: string[]): Promise<number> {
    if (!keys.length) return 0;
    const patterns = keys.map((k) => `%${JSON.stringify(k).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const redacted = await em.query(
      `UPDATE gateway.webhook_receipt r SET body = $2, byte_length = length($2)
       WHERE r.body LIKE ANY($1::text[]) AND r.body <> $2
         AND NOT EXISTS (SELECT 1 FROM gateway.outbox o WHERE o.id = r.id AND o.published_at IS NULL)
       RETURNING r.id`,
      [patterns, ERASED_BODY],
    );
    // TypeORM answers [rows, count] for UPDATE … RETURNING
    const ids = ((Array.isArray(redacted[0]) ? redacted[0] : redacted) as { id: string }[]).map((r) => r.id);
    if (ids.length)
      await em.query(
        `UPDATE gateway.outbox SET payload = jsonb_build_object('eventId', id, 'occurredAt', payload->>'occurredAt', 'body', $3::text)
         WHERE id = ANY($1::uuid[]) AND subject = $2 AND published_at IS NOT NULL`,
        [ids, WebhookReceivedV1.subject, ERASED_BODY],
      );
    return ids.length;
  }

  /**
   * Dead letters of signed webhooks refused whole (`webhook_rejected`: not JSON, wrong shape, possibly cut at
   * 64 KiB) that mention one of the person's WhatsApp ids anywhere, quoted or not (such a body need not be valid JSON):
   * their body becomes `{"erased":true}`; reason, status, time and size stay. A bare id may also match inside
   * another number: over-erasing a diagnostic copy is acceptable, missing the person's data is not.
   */
  async redactRejections(em: EntityManager, keys: string[]): Promise<number> {
    if (!keys.length) return 0;
    const patterns = keys.map((k) => `%${k.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const [redacted] = await em.query(
      `UPDATE gateway.webhook_rejected SET body = $2 WHERE body LIKE ANY($1::text[]) AND body <> $2 RETURNING id`,
      [patterns, ERASED_BODY],
    );
    return redacted.length;
  }

  /**
   * The event-webhook delivery log keeps each event's body (message texts, reply texts, contact ids) for retries
   * and redelivery: the deliveries of these conversations keep their id, type and time, their data becomes
   * `{"erased":true}` (a later redelivery sends that). Returns how many were redacted (0 when repeated).
   */
  async redactDeliveries(em: EntityManager, conversationIds: string[]): Promise<number> {
    if (!conversationIds.length) return 0;
    const [redacted] = await em.query(
      `UPDATE gateway.event_delivery SET body = jsonb_build_object('id', b->'id', 'type', b->'type', 'occurredAt', b->'occurredAt',
           'data', jsonb_build_object('conversationId', conversation_id, 'erased', true))::text
       FROM (SELECT id AS did, body::jsonb AS b FROM gateway.event_delivery WHERE conversation_id = ANY($1::uuid[])) x
       WHERE id = x.did AND NOT (x.b->'data' @> '{"erased":true}'::jsonb)
       RETURNING id`,
      [conversationIds],
    );
    return redacted.length;
  }
}
