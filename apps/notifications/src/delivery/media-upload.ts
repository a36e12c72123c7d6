import { Inject, Injectable } from '@nestjs/common';
import { GetUploadChunkV1 } from '@app/contracts';
import { Bus, RemoteError } from '@app/messaging';
import { GraphClient, type GraphResult } from '../graph/graph.client';

/** The media object of a Graph body that still names a stored upload (`{type, [type]: {upload_id, …}}`). */
export function uploadIdOf(body: Record<string, unknown>): string | null {
  const media = body[String(body.type)] as Record<string, unknown> | undefined;
  return media && typeof media.upload_id === 'string' ? media.upload_id : null;
}

/** The same body sending the uploaded media id instead (REFERENCE §2: "image": {"id": …, "caption": …}). */
export function withMediaId(body: Record<string, unknown>, mediaId: string): Record<string, unknown> {
  const type = String(body.type);
  const { upload_id: _drop, ...rest } = body[type] as Record<string, unknown>;
  return { ...body, [type]: { id: mediaId, ...rest } };
}

/**
 * An agent's attachment is stored in ingest (PutUploadChunkV1). Before its message is sent, the sender reads it
 * back in chunks and uploads it to `POST /{phone-number-id}/media`; the message then goes out with that media id.
 * Nothing here sends a message, so every failure is safe to retry: a timeout is reported as `unreachable`
 * (never `timeout`, which would mean "may have been sent").
 */
@Injectable()
export class MediaUpload {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly graph: GraphClient,
  ) {}

  async toGraph(phoneNumberId: string, uploadId: string): Promise<{ kind: 'uploaded'; mediaId: string } | GraphResult> {
    let file: { data: Blob; mimeType: string; filename: string | null };
    try {
      file = await this.read(uploadId);
    } catch (err) {
      if (err instanceof RemoteError && err.code === 'NOT_FOUND')
        return { kind: 'error', status: 404, code: null, title: 'The attachment is no longer stored; attach it again.', details: null };
      return { kind: 'unreachable', reason: `reading the attachment from ingest: ${(err as Error).message}` };
    }
    const res = await this.graph.uploadMedia(phoneNumberId, file);
    if (res.kind === 'timeout') return { kind: 'unreachable', reason: `media upload: ${res.reason}` };
    if (res.kind !== 'ok') return res;
    const id = res.body.id;
    if (typeof id !== 'string' || !id) return { kind: 'error', status: 502, code: null, title: 'WhatsApp accepted the upload but returned no media id', details: null };
    return { kind: 'uploaded', mediaId: id };
  }

  /**
   * The stored file as one Blob (what the multipart upload sends): the decoded chunks are handed to the Blob, which
   * keeps the only copy once this returns (no concatenated Buffer and no second view next to it).
   */
  private async read(uploadId: string): Promise<{ data: Blob; mimeType: string; filename: string | null }> {
    const first = await this.bus.request(GetUploadChunkV1, { uploadId, offset: 0 });
    const parts = [Buffer.from(first.data, 'base64')];
    let offset = parts[0].length;
    while (offset < first.size) {
      const next = Buffer.from((await this.bus.request(GetUploadChunkV1, { uploadId, offset })).data, 'base64');
      if (next.length === 0) throw new Error(`upload ${uploadId} ended at ${offset} of ${first.size} bytes`);
      parts.push(next);
      offset += next.length;
    }
    return { data: new Blob(parts as unknown as BlobPart[], { type: first.mimeType }), mimeType: first.mimeType, filename: first.filename };
  }
}
