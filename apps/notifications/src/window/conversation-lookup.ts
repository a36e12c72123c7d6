import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GetConversationV1 } from '@app/contracts';
import { Bus, NotFoundError, RemoteError, UpstreamUnavailableError } from '@app/messaging';
import { WindowRepository } from './window.repository';

export interface ConversationWindow {
  phoneNumberId: string;
  lastInboundAt: Date | null;
}

/**
 * A conversation's number and last customer message, from the local projection; when the projection has
 * not seen it yet (events lag by milliseconds), asks ingest once (bounded, 700 ms) and projects the answer.
 */
@Injectable()
export class ConversationLookup {
  constructor(
    private readonly ds: DataSource,
    private readonly windows: WindowRepository,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

  async find(conversationId: string): Promise<ConversationWindow> {
    const em = this.ds.manager;
    const conv = await this.windows.findConversation(em, conversationId);
    if (conv) return { phoneNumberId: conv.phone_number_id, lastInboundAt: await this.windows.lastInboundByContact(em, conv.phone_number_id, conv.contact_id) };
    let remote;
    try {
      remote = await this.bus.request(GetConversationV1, { conversationId }, { timeoutMs: 700 });
    } catch (err) {
      if (err instanceof RemoteError && err.code === 'NOT_FOUND') throw new NotFoundError(`conversationId: conversation ${conversationId} is not known`);
      // ingest down or slow is not "unknown": the caller gets a 503 and can retry with the same key
      throw new UpstreamUnavailableError(GetConversationV1.subject, `could not look up conversation ${conversationId}: ${(err as Error).message}`, { cause: err });
    }
    const lastInboundAt = remote.lastInboundAt ? new Date(remote.lastInboundAt) : null;
    await this.ds.transaction(async (tx) => {
      await this.windows.upsertConversation(tx, conversationId, remote.phoneNumberId, remote.contact.id);
      await this.windows.upsertContact(tx, remote.contact.id, remote.contact.waId, remote.contact.userId);
      if (lastInboundAt && !Number.isNaN(lastInboundAt.getTime())) await this.windows.recordInbound(tx, remote.phoneNumberId, remote.contact.id, lastInboundAt);
    });
    return { phoneNumberId: remote.phoneNumberId, lastInboundAt };
  }
}
