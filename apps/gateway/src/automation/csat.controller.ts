import { BadRequestException, Body, Controller, Delete, Get, Inject, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import { ApiNotFoundResponse } from '@nestjs/swagger';
import { DeleteCsatSettingV1, GetConversationCsatV1, ListCsatSettingsV1, PutCsatSettingV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { ErrorResponse } from '../auth/auth.responses';
import { actorOf, CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { PutCsatSettingDto } from './csat.dto';
import { AutomationApi } from './automation-api.decorator';

/**
 * CSAT surveys (issue 14): the setting per team (admins, the team's managers) or business number (admins), and a
 * conversation's surveys with their ratings. Routing holds the settings and sends the surveys; reports are in
 * `GET /api/v1/reports/csat` and the dashboard.
 */
@AutomationApi()
@Controller('api/v1')
export class CsatController {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly teams: TeamsService,
  ) {}

  @Get('csat/settings')
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal) {
    return this.bus.request(ListCsatSettingsV1, { actor: actorOf(me) });
  }

  /** Creates or replaces the CSAT setting of that team or number. */
  @Put('csat/settings')
  @RequireScopes('conversations:write')
  async put(@CurrentPrincipal() me: Principal, @Body() dto: PutCsatSettingDto) {
    if (!dto.teamId === !dto.phoneNumberId) throw new BadRequestException('give exactly one of teamId or phoneNumberId');
    if (dto.teamId && !(await this.teams.exists(dto.teamId))) throw new BadRequestException(`teamId: team ${dto.teamId} does not exist`);
    return this.bus.request(PutCsatSettingV1, { actor: actorOf(me), setting: dto });
  }

  @Delete('csat/settings/:id')
  @RequireScopes('conversations:write')
  remove(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.bus.request(DeleteCsatSettingV1, { actor: actorOf(me), id });
  }

  /** The conversation's surveys, oldest first: sent or not (and why), the rating and comment. */
  @Get('conversations/:id/csat')
  @ApiNotFoundResponse({ type: ErrorResponse })
  @RequireScopes('conversations:read')
  forConversation(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.bus.request(GetConversationCsatV1, { actor: actorOf(me), conversationId: id });
  }
}
