import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { EraseRecipientV1, type RequestOf, type ResponseOf } from '@app/contracts';
import { Bus } from '@app/messaging';

const ERASED_BODY = '{"erased":true}';
const ERASED_RECIPIENT = 'erased';

/**
 * GDPR erasure, notifications' part (EraseRecipientV1): redacts the Graph bodies and recipient numbers of the
 * person's outbound sends (a queued one fails instead of going out), forgets the ids in pacing and the contact
 * projection. Skeletons (status, kind, times, attempts, error codes) stay. Never logs content. Idempotent.
 */
@Injectable()
export class ErasureHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(EraseRecipientV1, (r) => this.erase(r));
  }

  erase(r: RequestOf<typeof EraseRecipientV1>): Promise<ResponseOf<typeof EraseRecipientV1>> {
    return this.ds.transaction(async (em: EntityManager) => {
      const [, outboundSends] = await em.query(
        `UPDATE notifications.outbound_send
            SET graph_body = $3::jsonb, recipient = $4,
                status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END,
                error_title = CASE WHEN status = 'queued' THEN 'recipient erased' ELSE error_title END,
                error_explanation = NULL, updated_at = clock_timestamp()
          WHERE (conversation_id = ANY($1::uuid[]) OR recipient = ANY($2::text[])) AND graph_body <> $3::jsonb`,
        [r.conversationIds, r.recipients, ERASED_BODY, ERASED_RECIPIENT],
      );
      await em.query(`DELETE FROM notifications.pair_gate WHERE recipient = ANY($1::text[])`, [r.recipients]);
      const [, contactRefs] = await em.query(
        `UPDATE notifications.contact_ref SET wa_id = NULL, user_id = NULL
          WHERE (wa_id = ANY($1::text[]) OR user_id = ANY($1::text[])
                 OR contact_id IN (SELECT contact_id FROM notifications.conversation_ref WHERE conversation_id = ANY($2::uuid[])))
            AND (wa_id IS NOT NULL OR user_id IS NOT NULL)`,
        [r.recipients, r.conversationIds],
      );
      return { outboundSends: Number(outboundSends) || 0, contactRefs: Number(contactRefs) || 0 };
    });
  }
}
