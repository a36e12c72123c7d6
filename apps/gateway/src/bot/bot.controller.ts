import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, UseGuards, type PipeTransform } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AuthGuard } from '../auth/auth.guard';
import { ErrorResponse } from '../auth/auth.responses';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { IfMatchVersion } from '../http/etag';
import { WorkStateResponse } from '../inbox/inbox.responses';
import { BotHandoverDto, BotHoldDto, NumberBotDto, NumberBotResponse, TakeBackDto } from './bot.dto';
import { BotService } from './bot.service';

const Id = new ParseUUIDPipe({ version: undefined });

/** A business number's id in the path: Meta's numeric id, else 400. */
const PhoneNumberId: PipeTransform<string, string> = {
  transform(v: string) {
    if (!/^\d{1,32}$/.test(v)) throw new BadRequestException("phoneNumberId must be Meta's numeric phone number id");
    return v;
  },
};

/**
 * Bot handover: an integrator's bot (API key with the `bot` scope) holds a conversation — routing assigns nobody
 * and SLA clocks pause — replies through `POST …/messages`, then hands over to a team with a summary note.
 * People take a conversation back from the bot. Each step is one audit entry (before/after).
 */
@ApiTags('conversations')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Not a bot (hold, handover) / not a person (take back)' })
@ApiNotFoundResponse({ type: ErrorResponse, description: 'Unknown, or not visible to the caller' })
@ApiConflictResponse({ type: ErrorResponse, description: 'Stale version, owned by a person, held by another bot, or not held by this bot' })
@Controller('api/v1/conversations')
@UseGuards(AuthGuard)
export class BotController {
  constructor(private readonly bots: BotService) {}

  /** The bot takes an open/pending conversation nobody owns (again: no change). */
  @Post(':id/bot')
  @IfMatchVersion()
  @HttpCode(200)
  @ApiOkResponse({ type: WorkStateResponse })
  @RequireScopes('bot')
  hold(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: BotHoldDto) {
    return this.bots.hold(me, id, dto.version);
  }

  /** The holding bot hands over to a team with a summary note; the team's strategy picks the owner. */
  @Post(':id/handover')
  @IfMatchVersion()
  @HttpCode(200)
  @ApiOkResponse({ type: WorkStateResponse })
  @RequireScopes('bot')
  handover(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: BotHandoverDto) {
    return this.bots.handover(me, id, dto);
  }

  /** A person takes the conversation back from the bot and becomes its owner. */
  @Post(':id/take-back')
  @IfMatchVersion()
  @HttpCode(200)
  @ApiOkResponse({ type: WorkStateResponse })
  @RequireScopes('conversations:write')
  takeBack(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: TakeBackDto) {
    return this.bots.takeBack(me, id, dto.version);
  }
}

/** Admin: a business number's new (and reopened, unowned) conversations go to a bot first. */
@ApiTags('numbers')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/numbers')
@UseGuards(AuthGuard)
export class NumberBotController {
  constructor(private readonly bots: BotService) {}

  @Put(':phoneNumberId/bot')
  @ApiOkResponse({ type: NumberBotResponse })
  @RequireScopes('admin')
  setBot(@CurrentPrincipal() me: Principal, @Param('phoneNumberId') phoneNumberId: string, @Body() dto: NumberBotDto) {
    return this.bots.setNumberBot(me, phoneNumberId, dto.apiKeyId);
  }

  /** The bot the number's new conversations go to first (bot: null = routed to its team as usual). */
  @Get(':phoneNumberId/bot')
  @ApiOkResponse({ type: NumberBotResponse })
  @ApiBadRequestResponse({ type: ErrorResponse })
  @RequireScopes('admin')
  getBot(@Param('phoneNumberId', PhoneNumberId) phoneNumberId: string) {
    return this.bots.getNumberBot(phoneNumberId);
  }

  /** No bot any more: new conversations are routed to the number's team as usual (audited number.bot-set; again: no change). */
  @Delete(':phoneNumberId/bot')
  @ApiOkResponse({ type: NumberBotResponse })
  @ApiBadRequestResponse({ type: ErrorResponse })
  @RequireScopes('admin')
  clearBot(@CurrentPrincipal() me: Principal, @Param('phoneNumberId', PhoneNumberId) phoneNumberId: string) {
    return this.bots.setNumberBot(me, phoneNumberId, null);
  }
}
