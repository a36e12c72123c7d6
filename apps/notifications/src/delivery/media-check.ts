import { Injectable } from '@nestjs/common';
import { MEDIA_LIMITS, type MediaType } from '@app/contracts';
import { ValidationError } from '@app/messaging';
import { GraphClient } from '../graph/graph.client';

/** REFERENCE §3 limits, defined once in the contracts. */
export { MEDIA_LIMITS };

/**
 * Before queueing a media message sent by id: asks the Graph API about the id (bounded, 800 ms) and refuses
 * an unknown id, a file over the type's documented size or of the wrong type. If the Graph API cannot answer
 * in time the send is queued anyway (Meta reports a bad file asynchronously, error 131053).
 */
@Injectable()
export class MediaCheck {
  constructor(private readonly graph: GraphClient) {}

  async check(type: MediaType, mediaId: string, phoneNumberId: string): Promise<void> {
    const res = await this.graph.get(`${encodeURIComponent(mediaId)}?phone_number_id=${encodeURIComponent(phoneNumberId)}`, 800);
    if (res.kind === 'error' && res.status < 500)
      throw new ValidationError(`message.id: media ${mediaId} is not known for this number (upload it first)`);
    if (res.kind !== 'ok') return;
    const size = Number(res.body.file_size);
    const mime = String(res.body.mime_type ?? '').split(';')[0].trim();
    const limit = MEDIA_LIMITS[type];
    if (Number.isFinite(size) && size > limit.maxBytes)
      throw new ValidationError(`message.id: the ${type} is ${size} bytes; WhatsApp accepts at most ${limit.maxBytes} bytes for ${type}`);
    if (mime && limit.mime.length && !limit.mime.includes(mime))
      throw new ValidationError(`message.id: a ${type} must be one of ${limit.mime.join(', ')}; this file is ${mime}`);
  }
}
