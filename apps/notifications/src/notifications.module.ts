import { DynamicModule, Global, Module } from '@nestjs/common';
import { OutboundFailedV1, OutboundQueuedV1, OutboundSentV1 } from '@app/contracts';
import { pingProviders, serviceCore } from '@app/platform';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from './config';
import { DeliveryHandler } from './delivery/delivery.handler';
import { MediaCheck } from './delivery/media-check';
import { MediaUpload } from './delivery/media-upload';
import { SendRepository } from './delivery/send.repository';
import { SendService } from './delivery/send.service';
import { SendWorker } from './delivery/send.worker';
import { ErasureHandler } from './erasure/erasure.handler';
import { GraphClient } from './graph/graph.client';
import { NumberCredentialsCache } from './graph/number-credentials';
import { notificationsMigrations } from './migrations';
import { TemplateAdminHandler } from './templates/template-admin.handler';
import { TemplateListHandler } from './templates/template-list.handler';
import { TemplateRepository } from './templates/template.repository';
import { TemplateStatusHandler } from './templates/template-status.handler';
import { TemplateSyncService } from './templates/template-sync.service';
import { ConversationLookup } from './window/conversation-lookup';
import { WindowHandler } from './window/window.handler';
import { WindowRepository } from './window/window.repository';

@Global()
@Module({})
class NotificationsConfigModule {
  static register(cfg: NotificationsConfig): DynamicModule {
    return { module: NotificationsConfigModule, providers: [{ provide: NOTIFICATIONS_CONFIG, useValue: cfg }], exports: [NOTIFICATIONS_CONFIG] };
  }
}

@Module({})
export class NotificationsModule {
  static register(cfg: NotificationsConfig): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [
        NotificationsConfigModule.register(cfg),
        ...serviceCore(cfg, {
          service: 'notifications',
          schema: 'notifications',
          migrations: notificationsMigrations,
          outboxContracts: [OutboundQueuedV1, OutboundSentV1, OutboundFailedV1],
        }),
      ],
      providers: [
        ...pingProviders('notifications'),
        NumberCredentialsCache,
        GraphClient,
        MediaCheck,
        MediaUpload,
        SendRepository,
        WindowRepository,
        ConversationLookup,
        TemplateRepository,
        TemplateSyncService,
        SendService,
        SendWorker,
        DeliveryHandler,
        WindowHandler,
        TemplateStatusHandler,
        TemplateListHandler,
        TemplateAdminHandler,
        ErasureHandler,
      ],
    };
  }
}
