import { ExecutionContext, Injectable, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { tokenFrom } from '../auth/token.strategy';

export const RATE_WINDOW_MS = 60_000;

/** The per-minute limit: API_RATE_LIMIT_PER_MINUTE, else 600 (off under NODE_ENV=test unless set). */
export const rateLimitOf = (cfg: GatewayConfig) => cfg.API_RATE_LIMIT_PER_MINUTE ?? (cfg.NODE_ENV === 'test' ? 0 : 600);

/**
 * Rate limit for `/api/v1` (not the WhatsApp webhook, health or metrics): one bucket per API key or per
 * signed-in session (the credential's SHA-256, so the limit is per caller across every route), per client
 * address when unauthenticated. Over it: 429 with `Retry-After` (seconds). Counts are per gateway replica.
 */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  protected async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    return context.getType() !== 'http' || !(req.originalUrl ?? req.url ?? '').startsWith('/api/v1/');
  }

  protected async getTracker(req: Record<string, any>): Promise<string> {
    const token = tokenFrom(req as Request);
    return token ? `cred:${createHash('sha256').update(token).digest('hex').slice(0, 32)}` : `ip:${req.ip}`;
  }

  protected generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected async getErrorMessage(_context: ExecutionContext, d: ThrottlerLimitDetail): Promise<string> {
    return `rate limit exceeded: ${d.limit} requests per minute per API key or user; retry after ${d.timeToBlockExpire} s (Retry-After)`;
  }
}

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [GATEWAY_CONFIG],
      useFactory: (cfg: GatewayConfig) => ({
        throttlers: [{ ttl: RATE_WINDOW_MS, limit: Math.max(rateLimitOf(cfg), 1) }],
        skipIf: () => rateLimitOf(cfg) === 0,
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ApiThrottlerGuard }],
})
export class RateLimitModule {}
