import { Module } from '@nestjs/common';
import { WhatsAppAccountsModule } from '../whatsapp-accounts/accounts.module';
import { EventWebhookClock } from './event-clock';
import { EventFanout } from './event-fanout';
import { EventSender } from './event-sender';
import { SenderEffects } from './sender-effects';
import { EventSubscriptionsService } from './event-subscriptions.service';
import { EventWebhooksController } from './event-webhooks.controller';
import { EventWebhooksRepository } from './event-webhooks.repository';

/** Signed event webhooks for integrators (issue 13, part 3): subscriptions, fan-out from INBOX_EVENTS, sender. */
@Module({
  imports: [WhatsAppAccountsModule],
  controllers: [EventWebhooksController],
  providers: [EventWebhookClock, EventWebhooksRepository, EventSubscriptionsService, EventFanout, SenderEffects, EventSender],
})
export class EventWebhooksModule {}
