import { Controller, ForbiddenException, Get, Headers, HttpCode, Post, Query, Req, Header } from '@nestjs/common';
import type { Request } from 'express';
import { WhatsAppWebhookService } from './whatsapp-webhook.service';

/** Fixed paths that Meta and integrators configure. */
@Controller('webhooks/whatsapp')
export class WhatsAppWebhookController {
  constructor(private readonly webhooks: WhatsAppWebhookService) {}

  @Get()
  @Header('Content-Type', 'text/plain; charset=utf-8')
  verify(@Query() q: Record<string, unknown>): string {
    const challenge = this.webhooks.verifySubscription(q['hub.mode'], q['hub.verify_token'], q['hub.challenge']);
    if (challenge === null) throw new ForbiddenException('verify token does not match');
    return challenge;
  }

  @Post()
  @HttpCode(200)
  async receive(@Req() req: Request, @Headers('x-hub-signature-256') signature?: string) {
    const raw = Buffer.isBuffer(req.body) ? req.body : undefined;
    const { receiptId } = await this.webhooks.receive(raw, signature);
    return { received: true, receiptId };
  }
}
