import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConversationResolvedV1, type PayloadOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import { claimEvent } from '@app/persistence';
import { ConversationRepository } from './conversation.repository';

/** Routing resolves conversations; ingest keeps the status so the next customer message reopens the same thread. */
@Injectable()
export class ConversationResolvedHandler implements OnApplicationBootstrap {
  private readonly log = new Logger('Conversations');

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly conversations: ConversationRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(ConversationResolvedV1, { durable: 'ingest-conversation-resolved', concurrency: 2 }, (e) => this.handle(e));
  }

  async handle(e: PayloadOf<typeof ConversationResolvedV1>): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'ingest', 'ingest-conversation-resolved', e.eventId))) return;
      const changed = await this.conversations.resolve(em, e.conversationId, new Date(e.occurredAt), e.resolvedBy);
      if (!changed && !(await this.conversations.summary(em, e.conversationId))) {
        this.log.warn({ msg: 'resolved event for an unknown conversation ignored', conversationId: e.conversationId });
      }
    });
  }
}
