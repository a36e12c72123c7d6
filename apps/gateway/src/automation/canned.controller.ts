import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { CannedQuery, CreateCannedDto, RenderCannedDto } from './canned.dto';
import { CannedService } from './canned.service';
import { AutomationApi } from './automation-api.decorator';

/** Canned responses: team or personal, searched by shortcut from the composer, rendered for a conversation. */
@AutomationApi()
@Controller('api/v1/canned-responses')
export class CannedController {
  constructor(private readonly canned: CannedService) {}

  @Get()
  @RequireScopes('conversations:read')
  search(@CurrentPrincipal() me: Principal, @Query() q: CannedQuery) {
    return this.canned.search(me, q.q);
  }

  @Post()
  @RequireScopes('conversations:write')
  create(@CurrentPrincipal() me: Principal, @Body() dto: CreateCannedDto) {
    return this.canned.create(me, dto);
  }

  @Post(':id/render')
  @HttpCode(200)
  @RequireScopes('conversations:read')
  render(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: RenderCannedDto) {
    return this.canned.render(me, id, dto.conversationId);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes('conversations:write')
  async remove(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    await this.canned.remove(me, id);
  }
}
