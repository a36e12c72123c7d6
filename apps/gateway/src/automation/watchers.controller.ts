import { ApiBearerAuth, ApiNotFoundResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { WatchersService } from './watchers.service';

/** Follow a conversation to get its notices without owning it. */
@ApiTags('automation')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiNotFoundResponse({ type: ErrorResponse })
@Controller('api/v1/conversations')
@UseGuards(AuthGuard)
export class WatchersController {
  constructor(private readonly watchers: WatchersService) {}

  @Get(':id/watchers')
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.watchers.list(me, id);
  }

  @Post(':id/watch')
  @HttpCode(200)
  @RequireScopes('conversations:read')
  follow(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.watchers.follow(me, id, true);
  }

  @Delete(':id/watch')
  @RequireScopes('conversations:read')
  unfollow(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.watchers.follow(me, id, false);
  }
}
