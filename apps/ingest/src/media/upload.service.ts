import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { GetUploadChunkV1, PutUploadChunkV1, RequestOf, ResponseOf } from '@app/contracts';
import { ConflictError, NotFoundError, ValidationError } from '@app/messaging';
import { one } from '../db.util';
import { MediaStore } from './media-store';

interface UploadRow {
  id: string;
  conversation_id: string;
  mime_type: string;
  filename: string | null;
  size: string;
  sha256: string;
  received: string;
  state: 'partial' | 'stored';
  storage_key: string;
}

/**
 * Agents' attachments, written chunk by chunk into the media store (the same store as inbound media). One row
 * per upload id, locked while a chunk is written, so chunks of one upload apply in order; the finished file is
 * checked against the sha256 the gateway computed. A repeated upload of the same file is a no-op; another file
 * under the same id is a CONFLICT (the id comes from the request's Idempotency-Key).
 */
@Injectable()
export class UploadService {
  constructor(
    private readonly ds: DataSource,
    private readonly store: MediaStore,
  ) {}

  put(q: RequestOf<typeof PutUploadChunkV1>): Promise<ResponseOf<typeof PutUploadChunkV1>> {
    return this.ds.transaction(async (em) => {
      const row = await this.lockOrCreate(em, q);
      const size = Number(row.size);
      if (row.sha256 !== q.sha256 || size !== q.size || row.conversation_id !== q.conversationId || row.mime_type !== q.mimeType)
        throw new ConflictError('Idempotency-Key: this key was already used for a different file');
      if (row.state === 'stored') return { stored: true, received: size };
      const data = Buffer.from(q.data, 'base64');
      const received = Number(row.received);
      if (q.offset !== 0 && q.offset !== received) {
        if (q.offset < received) return { stored: false, received }; // a repeated chunk
        throw new ValidationError(`offset: expected ${received}, got ${q.offset}`);
      }
      if (data.length === 0 || q.offset + data.length > size) throw new ValidationError(`data: the chunk does not fit a file of ${size} bytes at offset ${q.offset}`);
      await this.store.writeAt(row.storage_key, q.offset, data);
      const now = q.offset + data.length;
      let state: UploadRow['state'] = 'partial';
      if (now === size) {
        const digest = await this.store.sha256(row.storage_key); // read in ranges, not the whole file at once
        // nothing is recorded: the upload starts again at offset 0
        if (digest !== row.sha256) throw new ValidationError('data: the stored file does not match its sha256; upload it again');
        state = 'stored';
      }
      await em.query(`UPDATE ingest.upload SET received = $2, state = $3, updated_at = now() WHERE id = $1`, [row.id, now, state]);
      return { stored: state === 'stored', received: now };
    });
  }

  async chunk(q: RequestOf<typeof GetUploadChunkV1>): Promise<ResponseOf<typeof GetUploadChunkV1>> {
    const row = await one<UploadRow>(this.ds.manager, `SELECT * FROM ingest.upload WHERE id = $1 AND state = 'stored'`, [q.uploadId]);
    if (!row) throw new NotFoundError(`no stored upload ${q.uploadId}`);
    const data = await this.store.readRange(row.storage_key, q.offset, q.length);
    return { mimeType: row.mime_type, filename: row.filename, size: Number(row.size), offset: q.offset, data: data.toString('base64') };
  }

  private async lockOrCreate(em: EntityManager, q: RequestOf<typeof PutUploadChunkV1>): Promise<UploadRow> {
    const locked = () => one<UploadRow>(em, `SELECT * FROM ingest.upload WHERE id = $1 FOR UPDATE`, [q.uploadId]);
    const found = await locked();
    if (found) return found;
    const conv = await one<{ id: string }>(em, `SELECT id FROM ingest.conversation WHERE id = $1`, [q.conversationId]);
    if (!conv) throw new NotFoundError(`conversation ${q.conversationId} is not known`);
    await em.query(
      `INSERT INTO ingest.upload (id, conversation_id, mime_type, filename, size, sha256, storage_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
      [q.uploadId, q.conversationId, q.mimeType, q.filename, q.size, q.sha256, `uploads/${q.uploadId.slice(0, 2)}/${q.uploadId}`],
    );
    return (await locked())!;
  }
}
