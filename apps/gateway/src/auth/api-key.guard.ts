import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Integrator API key from config (`X-Api-Key` or `Authorization: Bearer`), compared in constant time. */
@Injectable()
export class ConfigApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(@Inject(GATEWAY_CONFIG) cfg: GatewayConfig) {
    this.keys = cfg.API_KEYS.map(digest);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    const auth = req.header('authorization');
    const key = req.header('x-api-key') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (!key) throw new UnauthorizedException('an API key is required (X-Api-Key header)');
    const given = digest(key);
    if (!this.keys.some((k) => timingSafeEqual(k, given))) throw new UnauthorizedException('API key is not valid');
    return true;
  }
}
