import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { GetWorkV1, MEDIA_CHUNK_MAX, MEDIA_LIMITS, PutUploadChunkV1, SendMessageV1, type OutboundMessage } from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';
import { requireIdempotencyKey } from '../http/idempotency-key';
import { InboxService } from './inbox.service';
import { attachmentType, tooBig } from './upload-admission';

/** The file part of a multipart request (multer, in memory). */
export interface UploadedFilePart {
  buffer: Buffer;
  mimetype: string;
  originalname?: string;
  size: number;
}

export interface AttachmentFields {
  caption?: string;
  version?: string;
}

/** A stable UUID from a string (the upload id of one Idempotency-Key on one conversation). */
const uuidOf = (s: string) => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/**
 * An agent sends a file (image, document, audio, video) with an optional caption. The same rules as a reply:
 * the caller must see the conversation (404), a blocked contact is refused, only the owner sends (an unassigned
 * conversation is claimed; others get 409 naming the owner), and the Idempotency-Key makes retries return the
 * first result. WhatsApp's media limits (REFERENCE §3) are checked here: wrong type → 400, too big → 413.
 * The file is stored in ingest's media store (chunks over the bus); notifications uploads it to the Graph API
 * and sends the message with the returned media id.
 */
@Injectable()
export class AttachmentsService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly inbox: InboxService,
  ) {}

  async send(p: Principal, id: string, idempotencyKey: string | undefined, file: UploadedFilePart | undefined, fields: AttachmentFields) {
    const key = requireIdempotencyKey(idempotencyKey);
    await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: id }); // visibility first (404)
    const { type, mimeType, caption, filename, version } = this.check(file, fields);
    const uploadId = uuidOf(`attachment:${id}:${key}`);
    const message = {
      type,
      uploadId,
      ...(caption !== undefined ? { caption } : {}),
      ...(filename !== null ? { filename } : {}),
    } as OutboundMessage;
    // checked by notifications before anything is claimed or stored (e.g. the 24 h window)
    const { conv, prepared, request } = await this.inbox.prepareSend(p, id, version, (c, to) => ({
      idempotencyKey: `attachment:${id}:${key}`,
      phoneNumberId: c.phoneNumberId,
      to,
      conversationId: id,
      senderId: p.id,
      senderName: p.name,
      message,
    }));
    await this.store(uploadId, id, file!, mimeType, filename);
    const sent = await this.bus.request(SendMessageV1, request);
    this.inbox.markReadAfterSend(conv.phoneNumberId, id);
    return { ...sent, type, claimed: prepared.claimed, version: prepared.state.version };
  }

  private check(file: UploadedFilePart | undefined, fields: AttachmentFields) {
    if (!file || !file.buffer?.length) throw new BadRequestException('file: attach one non-empty file (multipart/form-data field "file")');
    const { type, mimeType } = attachmentType(file.mimetype);
    const max = MEDIA_LIMITS[type].maxBytes;
    if (file.size > max) throw tooBig(type, max, file.size);
    const caption = fields.caption?.trim() ? fields.caption : undefined;
    if (caption !== undefined && caption.length > 1024) throw new BadRequestException('caption: at most 1024 characters');
    if (caption !== undefined && type === 'audio') throw new BadRequestException('caption: WhatsApp sends audio without a caption');
    let version: number | undefined;
    if (fields.version !== undefined && fields.version !== '') {
      version = Number(fields.version);
      if (!Number.isInteger(version) || version < 1) throw new BadRequestException('version: must be a positive integer');
    }
    // only a document carries its file name to the customer (visible characters, at most 240)
    const name = (file.originalname ?? '').replace(/[^\p{L}\p{N} ._()-]/gu, '_').slice(-240).trim();
    const filename = type === 'document' ? name || 'document' : null;
    return { type, mimeType, caption, filename, version };
  }

  /** Into ingest's media store, in bus-sized chunks; a repeated upload of the same file stops at the first answer. */
  private async store(uploadId: string, conversationId: string, file: UploadedFilePart, mimeType: string, filename: string | null): Promise<void> {
    const sha256 = createHash('sha256').update(file.buffer).digest('hex');
    for (let offset = 0; offset < file.buffer.length; offset += MEDIA_CHUNK_MAX) {
      const data = file.buffer.subarray(offset, offset + MEDIA_CHUNK_MAX).toString('base64');
      const r = await this.bus.request(PutUploadChunkV1, { uploadId, conversationId, mimeType, filename, size: file.buffer.length, sha256, offset, data });
      if (r.stored) return;
    }
  }
}
