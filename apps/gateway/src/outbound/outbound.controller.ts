import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponse } from '../auth/auth.responses';
import { SendResponse } from '../inbox/inbox.responses';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { SendMessageDto } from './dto/send-message.dto';
import { OutboundService } from './outbound.service';

/** Integrators send WhatsApp messages: queued by notifications, sent within Meta's limits. */
@ApiTags('messages')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiBadRequestResponse({ type: ErrorResponse })
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs an API key with messages:send (people reply on the conversation)' })
@ApiNotFoundResponse({ type: ErrorResponse })
@ApiConflictResponse({ type: ErrorResponse, description: 'Idempotency-Key reused for another message, or the conversation is owned by a person' })
@Controller('api/v1/messages')
@UseGuards(AuthGuard)
export class OutboundController {
  constructor(private readonly outbound: OutboundService) {}

  /** 202 with `{ sendId, status, waMessageId, duplicate }`; the same Idempotency-Key returns the first result. */
  @Post()
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'Retries with the same key return the first result' })
  @ApiAcceptedResponse({ type: SendResponse })
  @RequireScopes('messages:send')
  send(@Body() dto: SendMessageDto, @Headers('idempotency-key') key: string | undefined, @CurrentPrincipal() me: Principal) {
    return this.outbound.send(me, dto, key);
  }
}
