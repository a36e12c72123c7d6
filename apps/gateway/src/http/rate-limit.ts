import { ExecutionContext, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerModule,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { AuthService } from '../auth/auth.service';
import { tokenFrom } from '../auth/token.strategy';

export const RATE_WINDOW_MS = 60_000;

/** The per-minute limit: API_RATE_LIMIT_PER_MINUTE, else 600 (off under NODE_ENV=test unless set). */
export const rateLimitOf = (cfg: GatewayConfig) => cfg.API_RATE_LIMIT_PER_MINUTE ?? (cfg.NODE_ENV === 'test' ? 0 : 600);

const WHO_TTL_MS = 30_000;

/**
 * Rate limit for `/api/v1` (not the WhatsApp webhook, health or metrics): one bucket per API key or per user
 * (all of a user's sessions together), across every route; per client address when the credentials are
 * missing or invalid. The credential is resolved once per 30 s (this guard runs before the route's AuthGuard).
 * Over it: 429 with `Retry-After` (seconds). Counts are per gateway replica.
 */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  private readonly who = new Map<string, { tracker: string; at: number }>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly auth: AuthService,
  ) {
    super(options, storage, reflector);
  }

  protected async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    return context.getType() !== 'http' || !(req.originalUrl ?? req.url ?? '').startsWith('/api/v1/');
  }

  protected async getTracker(req: Record<string, any>): Promise<string> {
    const token = tokenFrom(req as Request);
    if (!token) return `ip:${req.ip}`;
    const key = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    const hit = this.who.get(key);
    if (hit && now - hit.at < WHO_TTL_MS) return hit.tracker;
    const p = await this.auth.authenticate(token);
    const tracker = p ? `${p.kind}:${p.id}` : `ip:${req.ip}`;
    if (this.who.size > 10_000) this.who.clear();
    this.who.set(key, { tracker, at: now });
    return tracker;
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
