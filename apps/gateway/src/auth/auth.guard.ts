import { ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { SCOPES_KEY, type Principal, type Scope } from './principal';
import { TOKEN_STRATEGY, tokenFrom } from './token.strategy';

/**
 * The guard for every `/api/v1` route: a live access token (`Authorization: Bearer sba_…`) or API key
 * (`X-Api-Key: sbk_…` or Bearer) is required, then every scope named by `@RequireScopes(...)`.
 * 401 without valid credentials, 403 when a scope is missing. `@CurrentPrincipal()` gives the caller.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard(TOKEN_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    await super.canActivate(ctx);
    const needed = this.reflector.getAllAndOverride<Scope[] | undefined>(SCOPES_KEY, [ctx.getHandler(), ctx.getClass()]) ?? [];
    const p = ctx.switchToHttp().getRequest<{ user: Principal }>().user;
    const missing = needed.filter((s) => !p.scopes.includes(s));
    if (missing.length) throw new ForbiddenException(`not allowed: needs ${missing.join(', ')}`);
    return true;
  }

  handleRequest<T>(err: unknown, user: T, _info: unknown, ctx: ExecutionContext): T {
    if (err) throw err;
    if (!user) {
      const req = ctx.switchToHttp().getRequest<Request>();
      throw new UnauthorizedException(
        tokenFrom(req) ? 'access token or API key is not valid (expired or revoked)' : 'authentication required (Authorization: Bearer <token> or X-Api-Key)',
      );
    }
    return user;
  }
}
