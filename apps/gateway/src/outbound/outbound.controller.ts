import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { SendMessageDto } from './dto/send-message.dto';
import { OutboundService } from './outbound.service';

/** Integrators send WhatsApp messages: queued by notifications, sent within Meta's limits. */
@Controller('api/v1/messages')
@UseGuards(AuthGuard)
export class OutboundController {
  constructor(private readonly outbound: OutboundService) {}

  /** 202 with `{ sendId, status, waMessageId, duplicate }`; the same Idempotency-Key returns the first result. */
  @Post()
  @HttpCode(202)
  @RequireScopes('messages:send')
  send(@Body() dto: SendMessageDto, @Headers('idempotency-key') key: string | undefined, @CurrentPrincipal() me: Principal) {
    return this.outbound.send(me, dto, key);
  }
}
