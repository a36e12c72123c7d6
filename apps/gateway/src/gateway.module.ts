import { DynamicModule, Global, Module } from '@nestjs/common';
import { DirectoryChangedV1, NoticeRequestedV1, WebhookReceivedV1 } from '@app/contracts';
import { serviceCore } from '@app/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { AuthModule } from './auth/auth.module';
import { ContactsModule } from './contacts/contacts.module';
import { InboxModule } from './inbox/inbox.module';
import { NoticesModule } from './notices/notices.module';
import { SlaApiModule } from './sla/sla.module';
import { OutboundModule } from './outbound/outbound.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RoutingApiModule } from './routing/routing-api.module';
import { gatewayMigrations } from './migrations';
import { SystemModule } from './system/system.module';
import { WhatsAppWebhookModule } from './webhooks/whatsapp/whatsapp-webhook.module';
import { WebModule } from './web/web.module';
import { WhatsAppAccountsModule } from './whatsapp-accounts/accounts.module';
import { EventWebhooksModule } from './event-webhooks/event-webhooks.module';
import { RateLimitModule } from './http/rate-limit';
import { CorsModule } from './http/cors.module';
import { ReportsApiModule } from './reports/reports.module';
import { BotModule } from './bot/bot.module';
import { TemplatesModule } from './templates/templates.module';

/** Makes the parsed gateway config injectable everywhere as GATEWAY_CONFIG. */
@Global()
@Module({})
class GatewayConfigModule {
  static register(cfg: GatewayConfig): DynamicModule {
    return { module: GatewayConfigModule, providers: [{ provide: GATEWAY_CONFIG, useValue: cfg }], exports: [GATEWAY_CONFIG] };
  }
}

@Module({})
export class GatewayModule {
  static register(cfg: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        GatewayConfigModule.register(cfg),
        ...serviceCore(cfg, {
          service: 'gateway',
          schema: 'gateway',
          migrations: gatewayMigrations,
          outboxContracts: [WebhookReceivedV1, DirectoryChangedV1, NoticeRequestedV1],
        }),
        CorsModule,
        SystemModule,
        AuthModule,
        WhatsAppWebhookModule,
        InboxModule,
        RealtimeModule,
        NoticesModule,
        SlaApiModule,
        OutboundModule,
        RoutingApiModule,
        WebModule,
        ContactsModule,
        WhatsAppAccountsModule,
        EventWebhooksModule,
        RateLimitModule,
        ReportsApiModule,
        BotModule,
        TemplatesModule,
      ],
    };
  }
}
