import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CsatRecordedV1, EraseConversationContentV1, type RequestOf, type ResponseOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import { OutboxWriter } from '@app/persistence';
import { csatRecorded } from '../automation/csat.recorder';
import type { SurveyRow } from '../automation/csat.repository';

export const ERASED_NOTE = '[erased]';

/**
 * GDPR erasure, routing's part (EraseConversationContentV1): note bodies on the person's conversations become
 * `[erased]` (author, time, mentions stay) and the route context (opening message text, contact attributes) is
 * dropped; CSAT survey comments become `[erased]` (re-published as `inbox.csat.recorded.v1`, so the reports copy
 * follows). The audit trail is append-only and is not touched: `note.added` entries hold only the note id and
 * mentions. Never logs content. Idempotent: a repeat clears 0.
 */
@Injectable()
export class ErasureResponder implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(EraseConversationContentV1, (r) => this.erase(r));
  }

  erase(r: RequestOf<typeof EraseConversationContentV1>): Promise<ResponseOf<typeof EraseConversationContentV1>> {
    return this.ds.transaction(async (em) => {
      const [, notes] = await em.query(`UPDATE routing.note SET body = $2 WHERE conversation_id = ANY($1::uuid[]) AND body <> $2`, [
        r.conversationIds,
        ERASED_NOTE,
      ]);
      const [, routeContexts] = await em.query(
        `UPDATE routing.conversation_work SET route_context = NULL WHERE conversation_id = ANY($1::uuid[]) AND route_context IS NOT NULL`,
        [r.conversationIds],
      );
      const [surveys] = await em.query(
        `UPDATE routing.csat_survey SET comment = $2, version = version + 1
         WHERE conversation_id = ANY($1::uuid[]) AND comment IS NOT NULL AND comment <> $2 RETURNING *`,
        [r.conversationIds, ERASED_NOTE],
      );
      for (const s of surveys as SurveyRow[]) if (s.sent_at) await this.outbox.add(em, CsatRecordedV1, csatRecorded(s, new Date()));
      return { notes: Number(notes) || 0, routeContexts: Number(routeContexts) || 0 };
    });
  }
}
