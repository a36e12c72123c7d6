import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GetMediaChunkV1, type RequestOf, type ResponseOf } from '@app/contracts';
import { Bus, NotFoundError } from '@app/messaging';
import { MediaStore } from './media-store';

/** Serves stored media in chunks over the bus, for the gateway's GET /api/v1/media/:messageId. */
@Injectable()
export class MediaReadHandler implements OnApplicationBootstrap {
  constructor(
    private readonly ds: DataSource,
    private readonly store: MediaStore,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(GetMediaChunkV1, (q) => this.chunk(q));
  }

  async chunk(q: RequestOf<typeof GetMediaChunkV1>): Promise<ResponseOf<typeof GetMediaChunkV1>> {
    const [row] = (await this.ds.query(
      `SELECT m.conversation_id, md.mime_type, md.size, md.sha256, md.storage_key
       FROM ingest.media md JOIN ingest.message m ON m.id = md.message_id
       WHERE md.message_id = $1 AND md.state = 'stored'`,
      [q.messageId],
    )) as { conversation_id: string; mime_type: string | null; size: string | null; sha256: string | null; storage_key: string }[];
    if (!row) throw new NotFoundError(`no stored media for message ${q.messageId}`);
    const data = await this.store.readRange(row.storage_key, q.offset, q.length);
    return {
      conversationId: row.conversation_id,
      mimeType: row.mime_type,
      size: Number(row.size ?? 0),
      sha256: row.sha256,
      offset: q.offset,
      data: data.toString('base64'),
    };
  }
}
