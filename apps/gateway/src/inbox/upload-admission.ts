import {
  BadRequestException,
  Inject,
  Injectable,
  PayloadTooLargeException,
  ServiceUnavailableException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import { MEDIA_LIMITS, MEDIA_TYPES, mediaTypeOfMime, type MediaType } from '@app/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

/** Room in a multipart body for the boundaries, part headers, caption and version next to the file. */
export const MULTIPART_OVERHEAD = 64 * 1024;
/** The largest file of any accepted type (a document). */
const LARGEST = Math.max(...MEDIA_TYPES.filter((t) => t !== 'sticker').map((t) => MEDIA_LIMITS[t].maxBytes));
const RETRY_AFTER_S = 5;

const ALLOWED = MEDIA_TYPES.filter((t) => t !== 'sticker')
  .map((t) => `${t}: ${MEDIA_LIMITS[t].mime.join(', ')} (≤ ${MEDIA_LIMITS[t].maxBytes >> 20} MB)`)
  .join('; ');

/** The WhatsApp media type of a part's declared MIME type, or a 400 naming what is accepted. */
export function attachmentType(mimetype: string | undefined): { type: Exclude<MediaType, 'sticker'>; mimeType: string } {
  const mimeType = (mimetype || '').split(';')[0].trim().toLowerCase();
  const type = mediaTypeOfMime(mimeType);
  if (!type || type === 'sticker') throw new BadRequestException(`file: WhatsApp does not accept ${mimeType || 'files without a type'} here; allowed are ${ALLOWED}`);
  return { type, mimeType };
}

export const tooBig = (type: string, max: number, size?: number) =>
  new PayloadTooLargeException(`file: the ${type} is ${size === undefined ? 'larger than that' : `${size} bytes`}; WhatsApp accepts at most ${max} bytes (${max >> 20} MB) for ${type}`);

interface FilePart {
  mimetype: string;
  stream: Readable;
  buffer?: Buffer;
}

/**
 * multer storage for attachments: the part's declared type decides its limit before any of it is kept. A request
 * whose Content-Length already exceeds that limit (plus the multipart overhead) is refused (413) before the file is
 * read; otherwise the bytes are counted as they come and the upload stops (413) at the first byte over the limit,
 * so a 100 MB "image" is never held. An unaccepted type is refused (400) at once. One buffer per file (the chunks
 * are joined once at the end).
 */
export const attachmentStorage = {
  _handleFile(req: Request, file: FilePart, cb: (err: unknown, info?: { buffer: Buffer; size: number }) => void): void {
    let t: ReturnType<typeof attachmentType>;
    try {
      t = attachmentType(file.mimetype);
    } catch (err) {
      file.stream.resume();
      return cb(err);
    }
    const max = MEDIA_LIMITS[t.type].maxBytes;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max + MULTIPART_OVERHEAD) {
      file.stream.resume();
      return cb(tooBig(t.type, max));
    }
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: unknown, info?: { buffer: Buffer; size: number }) => {
      if (done) return;
      done = true;
      cb(err, info);
    };
    file.stream.on('data', (d: Buffer) => {
      if (done) return;
      size += d.length;
      if (size > max) {
        parts.length = 0;
        return finish(tooBig(t.type, max, size));
      }
      parts.push(d);
    });
    file.stream.on('error', (err) => finish(err));
    file.stream.on('end', () => finish(null, { buffer: Buffer.concat(parts, size), size }));
  },
  _removeFile(_req: Request, file: FilePart, cb: (err: unknown) => void): void {
    delete file.buffer;
    cb(null);
  },
};

/**
 * In front of the attachment route (before multer reads anything): a body larger than any accepted file is 413 at
 * once, and at most ATTACHMENT_UPLOADS_MAX_CONCURRENT uploads run per gateway replica (each may hold its file in
 * memory while it is stored); over that, 503 with Retry-After. A slot is freed when the response ends or the
 * client goes away.
 */
@Injectable()
export class UploadAdmission implements NestInterceptor {
  /** Per process (one gateway replica), whatever the number of interceptor instances. */
  private static active = 0;

  constructor(@Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > LARGEST + MULTIPART_OVERHEAD)
      throw new PayloadTooLargeException(`file: the request is ${declared} bytes; WhatsApp accepts at most ${LARGEST} bytes (${LARGEST >> 20} MB) for a document and less for other types`);
    const max = this.cfg.ATTACHMENT_UPLOADS_MAX_CONCURRENT;
    if (UploadAdmission.active >= max) {
      res.setHeader('Retry-After', String(RETRY_AFTER_S));
      throw new ServiceUnavailableException(`too many uploads in progress on this server (at most ${max} at once); retry after ${RETRY_AFTER_S} s (Retry-After)`);
    }
    UploadAdmission.active++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      UploadAdmission.active--;
    };
    res.once('finish', release);
    res.once('close', release);
    return next.handle();
  }
}
