import { ArgumentsHost, Catch, Controller, ForbiddenException, Get, Query, Req, Header, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AllExceptionsFilter } from '@app/platform';
import { VerifyThrottledError, WhatsAppWebhookService } from './whatsapp-webhook.service';

/** The usual error body, plus `Retry-After` on a throttled handshake. */
@Catch()
class VerifyRetryAfterFilter extends AllExceptionsFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof VerifyThrottledError)
      host.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(exception.retryAfterS));
    super.catch(exception, host);
  }
}

/**
 * Fixed paths that Meta and integrators configure. The notifications (POST) are answered ahead of Nest's router by
 * `useWebhookRawBody` (raw-body.ts); the subscription handshake (GET) is here.
 */
@Controller('webhooks/whatsapp')
export class WhatsAppWebhookController {
  constructor(private readonly webhooks: WhatsAppWebhookService) {}

  @Get()
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @UseFilters(VerifyRetryAfterFilter)
  verify(@Query() q: Record<string, unknown>, @Req() req: Request): string {
    const challenge = this.webhooks.verifySubscription(q['hub.mode'], q['hub.verify_token'], q['hub.challenge'], req.ip);
    if (challenge === null) throw new ForbiddenException('verify token does not match');
    return challenge;
  }
}
