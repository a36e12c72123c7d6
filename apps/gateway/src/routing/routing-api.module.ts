import { Module } from '@nestjs/common';
import { AgentsController, RoutingRulesController, TeamRoutingController } from './routing-api.controller';
import { RoutingApiService } from './routing-api.service';
import { AutomationApiModule } from '../automation/automation-api.module';

/** The HTTP API of automatic assignment (rules, team strategies, agents, queues); routing holds the state. */
@Module({
  imports: [AutomationApiModule],
  controllers: [RoutingRulesController, TeamRoutingController, AgentsController],
  providers: [RoutingApiService],
})
export class RoutingApiModule {}
