import { BadRequestException, Body, Controller, Delete, Get, Inject, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import { DeleteAutoReplyV1, ListAutoRepliesV1, PutAutoReplyV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { PutAutoReplyDto } from './auto-replies.dto';
import { AutomationApi } from './automation-api.decorator';

/** Greeting and away replies (admins: any team or number; managers: their teams). Routing holds and sends them. */
@AutomationApi()
@Controller('api/v1/auto-replies')
export class AutoRepliesController {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly teams: TeamsService,
  ) {}

  @Get()
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal) {
    return this.bus.request(ListAutoRepliesV1, { actor: actorOf(me) });
  }

  /** Creates or replaces the reply of that kind for that team or number. */
  @Put()
  @RequireScopes('conversations:write')
  async put(@CurrentPrincipal() me: Principal, @Body() dto: PutAutoReplyDto) {
    if (!dto.teamId === !dto.phoneNumberId) throw new BadRequestException('give exactly one of teamId or phoneNumberId');
    if (dto.teamId && !(await this.teams.exists(dto.teamId))) throw new BadRequestException(`teamId: team ${dto.teamId} does not exist`);
    return this.bus.request(PutAutoReplyV1, { actor: actorOf(me), reply: dto });
  }

  @Delete(':id')
  @RequireScopes('conversations:write')
  remove(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.bus.request(DeleteAutoReplyV1, { actor: actorOf(me), id });
  }
}
