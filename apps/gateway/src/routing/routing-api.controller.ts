import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse, ApiBadRequestResponse } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { AgentsQuery, AgentStatusDto, CapacityDto, CreateRuleDto, DryRunDto, QueueQuery, ReorderRulesDto, TeamRoutingDto, UpdateRuleDto } from './routing.dto';
import { RoutingApiService } from './routing-api.service';

/** Assignment rules (admins; managers for their teams), ordered, with a dry run. */
@ApiTags('routing')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@ApiBadRequestResponse({ type: ErrorResponse })
@Controller('api/v1/routing/rules')
@UseGuards(AuthGuard)
export class RoutingRulesController {
  constructor(private readonly routing: RoutingApiService) {}

  @Get()
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal) {
    return this.routing.listRules(me);
  }

  @Post()
  @RequireScopes('conversations:write')
  create(@CurrentPrincipal() me: Principal, @Body() dto: CreateRuleDto) {
    return this.routing.createRule(me, dto);
  }

  @Post('reorder')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  reorder(@CurrentPrincipal() me: Principal, @Body() dto: ReorderRulesDto) {
    return this.routing.reorder(me, dto.ids);
  }

  /** Which rule would match this conversation now, and whom the strategy would pick. Changes nothing. */
  @Post('dry-run')
  @HttpCode(200)
  @RequireScopes('conversations:read')
  dryRun(@CurrentPrincipal() me: Principal, @Body() dto: DryRunDto) {
    return this.routing.dryRun(me, dto.conversationId, dto.at);
  }

  @Patch(':id')
  @RequireScopes('conversations:write')
  update(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateRuleDto) {
    return this.routing.updateRule(me, id, dto);
  }

  @Delete(':id')
  @RequireScopes('conversations:write')
  remove(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.routing.deleteRule(me, id);
  }
}

/** A team's strategy settings and its queue. */
@ApiTags('routing')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/teams')
@UseGuards(AuthGuard)
export class TeamRoutingController {
  constructor(private readonly routing: RoutingApiService) {}

  @Get(':id/routing')
  @RequireScopes('conversations:read')
  get(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.routing.getTeam(me, id);
  }

  @Put(':id/routing')
  @RequireScopes('conversations:write')
  put(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: TeamRoutingDto) {
    return this.routing.setTeam(me, id, dto);
  }

  /** Open conversations without an owner, highest priority first, then oldest. */
  @Get(':id/queue')
  @RequireScopes('conversations:read')
  queue(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Query() q: QueueQuery) {
    return this.routing.queue(me, id, q.limit);
  }
}

/** Availability and load: one's own status; managers see their teams' agents and set capacity and skills. */
@ApiTags('routing')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1')
@UseGuards(AuthGuard)
export class AgentsController {
  constructor(private readonly routing: RoutingApiService) {}

  @Get('me/status')
  @ApiOkResponse({ description: 'The signed-in person: status, load and capacity' })
  @RequireScopes('conversations:read')
  myStatus(@CurrentPrincipal() me: Principal) {
    return this.routing.myStatus(me);
  }

  @Put('me/status')
  @ApiOkResponse({ description: 'The agent with status, load and capacity' })
  @RequireScopes('conversations:write')
  setStatus(@CurrentPrincipal() me: Principal, @Body() dto: AgentStatusDto) {
    return this.routing.setMyStatus(me, dto);
  }

  @Get('agents')
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal, @Query() q: AgentsQuery) {
    return this.routing.listAgents(me, q.teamId);
  }

  @Put('users/:id/capacity')
  @RequireScopes('conversations:write')
  capacity(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: CapacityDto) {
    return this.routing.setCapacity(me, id, dto);
  }
}
