import { DynamicModule, Global, Module } from '@nestjs/common';
import {
  ConversationOpenedV1,
  CsatAnsweredV1,
  DirectoryChangedV1,
  MessageReceivedV1,
  MessageStatusChangedV1,
  WhatsAppAccountEventV1,
} from '@app/contracts';
import { pingProviders, serviceCore } from '@app/platform';
import { AccountEventService } from './account/account-event.service';
import { INGEST_CONFIG, type IngestConfig } from './config';
import { ContactRepository } from './contacts/contact.repository';
import { ContactsAdminRepository } from './contacts/contacts-admin.repository';
import { ContactsHandler } from './contacts/contacts.handler';
import { ContactsService } from './contacts/contacts.service';
import { ConversationResolvedHandler } from './conversations/conversation-resolved.handler';
import { ConversationRepository } from './conversations/conversation.repository';
import { InboxReadHandler } from './conversations/inbox-read.handler';
import { LocalMediaStore, MediaStore } from './media/media-store';
import { MediaService } from './media/media.service';
import { MediaReadHandler } from './media/media-read.handler';
import { UploadHandler } from './media/upload.handler';
import { UploadService } from './media/upload.service';
import { InboundMessageService } from './messages/inbound-message.service';
import { MessageRepository } from './messages/message.repository';
import { OutboundHandler } from './messages/outbound.handler';
import { ingestMigrations } from './migrations';
import { BusinessNumberService } from './numbers/business-number.service';
import { StatusService } from './statuses/status.service';
import { RejectedItemRepository } from './webhooks/rejected-item.repository';
import { WebhookHandler } from './webhooks/webhook.handler';

/** Makes the parsed ingest config injectable as INGEST_CONFIG. */
@Global()
@Module({})
class IngestConfigModule {
  static register(cfg: IngestConfig): DynamicModule {
    return { module: IngestConfigModule, providers: [{ provide: INGEST_CONFIG, useValue: cfg }], exports: [INGEST_CONFIG] };
  }
}

@Module({})
export class IngestModule {
  static register(cfg: IngestConfig): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        IngestConfigModule.register(cfg),
        ...serviceCore(cfg, {
          service: 'ingest',
          schema: 'ingest',
          migrations: ingestMigrations,
          outboxContracts: [MessageReceivedV1, MessageStatusChangedV1, ConversationOpenedV1, WhatsAppAccountEventV1, DirectoryChangedV1, CsatAnsweredV1],
        }),
      ],
      providers: [
        ...pingProviders('ingest'),
        { provide: MediaStore, useFactory: () => new LocalMediaStore(cfg.MEDIA_DIR) },
        BusinessNumberService,
        ContactRepository,
        ConversationRepository,
        MessageRepository,
        RejectedItemRepository,
        StatusService,
        MediaService,
        MediaReadHandler,
        UploadService,
        UploadHandler,
        InboundMessageService,
        AccountEventService,
        WebhookHandler,
        OutboundHandler,
        ConversationResolvedHandler,
        InboxReadHandler,
        ContactsAdminRepository,
        ContactsService,
        ContactsHandler,
      ],
    };
  }
}
