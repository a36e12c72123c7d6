import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { AuthService } from './auth.service';
import type { Principal } from './principal';

type Verify = (req: Request, done: (err: unknown, user?: Principal | false, info?: string) => void) => void;

/**
 * A minimal passport strategy: the token comes from `Authorization: Bearer <token>` or `X-Api-Key`.
 * (passport augments the instance with success/fail/error when it runs a strategy.)
 */
class HeaderTokenStrategy {
  name = 'switchboard-token';
  constructor(private readonly verify: Verify) {}

  authenticate(this: HeaderTokenStrategy & PassportActions, req: Request): void {
    this.verify(req, (err, user, info) => {
      if (err) return this.error(err);
      if (!user) return this.fail(info ?? 'not authenticated', 401);
      this.success(user);
    });
  }
}
interface PassportActions {
  success(user: unknown): void;
  fail(challenge: string, status: number): void;
  error(err: unknown): void;
}

export function tokenFrom(req: Request): string | null {
  const auth = req.header('authorization');
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim() || null;
  return req.header('x-api-key')?.trim() || null;
}

export const TOKEN_STRATEGY = 'switchboard-token';

@Injectable()
export class TokenStrategy extends PassportStrategy(HeaderTokenStrategy, TOKEN_STRATEGY) {
  constructor(private readonly auth: AuthService) {
    super();
  }

  /** passport-style verify: (req) → principal, or false with the reason. */
  async validate(req: Request): Promise<Principal | false> {
    const token = tokenFrom(req);
    if (!token) return false;
    return (await this.auth.authenticate(token)) ?? false;
  }
}
