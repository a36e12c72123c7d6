import { Module } from '@nestjs/common';
import { AgentsController, RoutingRulesController, TeamRoutingController } from './routing-api.controller';
import { RoutingApiService } from './routing-api.service';
import { AutoRepliesController } from '../automation/auto-replies.controller';
import { MacrosController } from '../automation/macros.controller';

/** The HTTP API of automatic assignment (rules, team strategies, agents, queues); routing holds the state. */
@Module({
  controllers: [RoutingRulesController, TeamRoutingController, AgentsController, AutoRepliesController, MacrosController],
  providers: [RoutingApiService],
})
export class RoutingApiModule {}
