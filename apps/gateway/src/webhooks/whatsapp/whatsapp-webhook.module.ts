import { Module } from '@nestjs/common';
import { WhatsAppAccountsModule } from '../../whatsapp-accounts/accounts.module';
import { ReceiptGroupCommit } from './receipt-group-commit';
import { WebhookReceiptRepository } from './webhook-receipt.repository';
import { WebhookDeadLetter } from './webhook-dead-letter';
import { WebhookRejectionRepository } from './webhook-rejection.repository';
import { WebhookRejectionsController } from './webhook-rejections.controller';
import { WhatsAppWebhookController } from './whatsapp-webhook.controller';
import { WhatsAppWebhookService } from './whatsapp-webhook.service';

@Module({
  imports: [WhatsAppAccountsModule],
  controllers: [WhatsAppWebhookController, WebhookRejectionsController],
  providers: [WhatsAppWebhookService, WebhookReceiptRepository, ReceiptGroupCommit, WebhookRejectionRepository, WebhookDeadLetter],
})
export class WhatsAppWebhookModule {}
