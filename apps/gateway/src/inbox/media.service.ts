import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { GetMediaChunkV1, GetWorkV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';

/** Streams a message's stored media from ingest, chunk by chunk, to a caller who may see its conversation. */
@Injectable()
export class MediaService {
  constructor(@Inject(Bus) private readonly bus: Bus) {}

  async stream(p: Principal, messageId: string, res: Response): Promise<void> {
    const first = await this.bus.request(GetMediaChunkV1, { messageId, offset: 0 });
    // NOT_FOUND (404) when the caller may not see the conversation: nothing of the file is sent
    await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: first.conversationId });
    res.status(200);
    res.setHeader('Content-Type', first.mimeType ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(first.size));
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', 'inline');
    if (first.sha256) res.setHeader('ETag', `"${first.sha256}"`);
    let chunk = Buffer.from(first.data, 'base64');
    let offset = 0;
    try {
      for (;;) {
        if (chunk.length && !res.write(chunk)) await new Promise((r) => res.once('drain', r));
        offset += chunk.length;
        if (chunk.length === 0 || offset >= first.size) break;
        chunk = Buffer.from((await this.bus.request(GetMediaChunkV1, { messageId, offset })).data, 'base64');
      }
      res.end();
    } catch (err) {
      // headers are gone: the only honest signal left is a cut connection
      res.destroy(err as Error);
    }
  }
}
