import { Module } from '@nestjs/common';
import { WebhookReceiptRepository } from './webhook-receipt.repository';
import { WhatsAppWebhookController } from './whatsapp-webhook.controller';
import { WhatsAppWebhookService } from './whatsapp-webhook.service';

@Module({
  controllers: [WhatsAppWebhookController],
  providers: [WhatsAppWebhookService, WebhookReceiptRepository],
})
export class WhatsAppWebhookModule {}
