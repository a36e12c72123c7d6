import { DynamicModule, Global, Module } from '@nestjs/common';
import {
  AgentStatusChangedV1,
  AutomationTriggeredV1,
  ConversationAssignedV1,
  ConversationResolvedV1,
  ConversationWorkChangedV1,
  CsatRecordedV1,
  NoteAddedV1,
  NoticeRequestedV1,
} from '@app/contracts';
import { pingProviders, serviceCore } from '@app/platform';
import { ROUTING_CONFIG, type RoutingConfig } from './config';
import { routingMigrations } from './migrations';
import { AssignmentModule } from './assignment/assignment.module';
import { WorkModule } from './work/work.module';
import { AutomationModule } from './automation/automation.module';

@Global()
@Module({})
export class RoutingModule {
  static register(cfg: RoutingConfig): DynamicModule {
    return {
      module: RoutingModule,
      imports: [
        ...serviceCore(cfg, {
          service: 'routing',
          schema: 'routing',
          migrations: routingMigrations,
          outboxContracts: [ConversationWorkChangedV1, ConversationAssignedV1, ConversationResolvedV1, NoteAddedV1, NoticeRequestedV1, AgentStatusChangedV1, AutomationTriggeredV1, CsatRecordedV1],
        }),
        AssignmentModule,
        WorkModule,
        AutomationModule,
      ],
      providers: [...pingProviders('routing'), { provide: ROUTING_CONFIG, useValue: cfg }],
      exports: [ROUTING_CONFIG],
    };
  }
}
