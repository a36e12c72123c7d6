import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EraseConversationContentV1, type RequestOf, type ResponseOf } from '@app/contracts';
import { Bus } from '@app/messaging';

export const ERASED_NOTE = '[erased]';

/**
 * GDPR erasure, routing's part (EraseConversationContentV1): note bodies on the person's conversations become
 * `[erased]` (author, time, mentions stay) and the route context (opening message text, contact attributes) is
 * dropped. The audit trail is append-only and is not touched: `note.added` entries hold only the note id and
 * mentions. Never logs content. Idempotent: a repeat clears 0.
 */
@Injectable()
export class ErasureResponder implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
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
      return { notes: Number(notes) || 0, routeContexts: Number(routeContexts) || 0 };
    });
  }
}
