import { Module } from '@nestjs/common';
import { AgentsController, RoutingRulesController, TeamRoutingController } from './routing-api.controller';
import { RoutingApiService } from './routing-api.service';

/** The HTTP API of automatic assignment (rules, team strategies, agents, queues); routing holds the state. */
@Module({
  controllers: [RoutingRulesController, TeamRoutingController, AgentsController],
  providers: [RoutingApiService],
})
export class RoutingApiModule {}
