import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConversationOpenedV1, MessageReceivedV1, type PayloadOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import { WindowRepository } from './window.repository';

/**
 * Keeps the 24 h window projection: each inbound customer message renews it; echoes (typed on the phone)
 * never do (REFERENCE §2.1, §5). Upserts with GREATEST are idempotent, so redeliveries are harmless.
 */
@Injectable()
export class WindowHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly windows: WindowRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(MessageReceivedV1, { durable: 'notifications-window', concurrency: 8 }, (evt) => this.onMessage(evt));
    await this.bus.consume(ConversationOpenedV1, { durable: 'notifications-contacts', concurrency: 4 }, (evt) => this.onOpened(evt));
  }

  async onMessage(evt: PayloadOf<typeof MessageReceivedV1>): Promise<void> {
    await this.ds.transaction(async (em) => {
      await this.windows.upsertConversation(em, evt.conversationId, evt.phoneNumberId, evt.contactId);
      if (evt.origin === 'customer' && evt.direction === 'inbound') {
        const at = new Date(evt.sentAt);
        await this.windows.recordInbound(em, evt.phoneNumberId, evt.contactId, Number.isNaN(at.getTime()) ? new Date(evt.occurredAt) : at);
      }
    });
  }

  async onOpened(evt: PayloadOf<typeof ConversationOpenedV1>): Promise<void> {
    await this.ds.transaction(async (em) => {
      await this.windows.upsertConversation(em, evt.conversationId, evt.phoneNumberId, evt.contactId);
      await this.windows.upsertContact(em, evt.contactId, evt.waId, evt.userId);
    });
  }
}
