import { Module } from '@nestjs/common';
import { WhatsAppAccountsModule } from '../../whatsapp-accounts/accounts.module';
import { ReceiptGroupCommit } from './receipt-group-commit';
import { WebhookReceiptRepository } from './webhook-receipt.repository';
import { WhatsAppWebhookController } from './whatsapp-webhook.controller';
import { WhatsAppWebhookService } from './whatsapp-webhook.service';

@Module({
  imports: [WhatsAppAccountsModule],
  controllers: [WhatsAppWebhookController],
  providers: [WhatsAppWebhookService, WebhookReceiptRepository, ReceiptGroupCommit],
})
export class WhatsAppWebhookModule {}
