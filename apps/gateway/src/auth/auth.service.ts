import { HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { NoticeRequestedV1 } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { AuthRepository } from './auth.repository';
import { DUMMY_HASH, verifyPassword } from './password';
import { BOT_SCOPES, ROLE_SCOPES, type Principal, type Scope } from './principal';
import { kindOf, newToken, tokenHash } from './tokens';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Too many failed logins: answered 429 with the seconds to wait. */
export class LoginThrottledError extends HttpException {
  constructor(readonly retryAfterS: number) {
    super({ message: `too many failed logins; try again in ${retryAfterS} s` }, HttpStatus.TOO_MANY_REQUESTS);
  }
}

@Injectable()
export class AuthService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: AuthRepository,
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
    private readonly outbox: OutboxWriter,
  ) {}

  /**
   * Email + password. Logins for one email are serialised; after LOGIN_MAX_FAILURES failures in the window
   * (or 4× that from one IP) every attempt is refused with 429 before the password is even checked.
   */
  async login(email: string, password: string, ip: string): Promise<TokenPair> {
    return this.ds.transaction(async (em) => {
      await this.repo.lockLoginEmail(em, email);
      const f = await this.repo.recentFailures(em, email, ip, this.cfg.LOGIN_WINDOW_S);
      const max = this.cfg.LOGIN_MAX_FAILURES;
      if (f.by_email >= max || f.by_ip >= max * 4) {
        const oldest = f.by_email >= max ? f.oldest_email : f.oldest_ip;
        const wait = oldest ? Math.ceil((new Date(oldest).getTime() + this.cfg.LOGIN_WINDOW_S * 1000 - Date.now()) / 1000) : 1;
        throw new LoginThrottledError(Math.max(1, wait));
      }
      const user = await this.repo.findUserForLogin(em, email);
      const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
      if (!user || !ok || user.disabled_at) {
        await this.repo.recordFailure(em, email, ip);
        // this failure locks the account's sign-in: its owner gets one notice per lock (the password never appears)
        if (user && f.by_email + 1 === max) {
          await this.outbox.add(em, NoticeRequestedV1, {
            eventId: randomUUID(),
            occurredAt: new Date().toISOString(),
            kind: 'system',
            audience: { userIds: [user.id], teamManagersOf: null },
            conversationId: null,
            title: 'Sign-in to your account is paused',
            body: `${max} wrong passwords were tried for your account; sign-in is paused for ${Math.ceil(this.cfg.LOGIN_WINDOW_S / 60)} min. If this was not you, tell an admin.`,
            data: { failures: max, pausedForS: this.cfg.LOGIN_WINDOW_S },
            source: 'gateway',
          });
        }
        // the failure must be kept even though we answer with an error: commit, then throw outside
        return null;
      }
      await this.repo.clearFailures(em, email);
      return this.issue(em, user.id);
    }).then((pair) => {
      if (!pair) throw new UnauthorizedException('email or password is wrong');
      return pair;
    });
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    if (kindOf(refreshToken) !== 'sbr') throw new UnauthorizedException('refresh token is not valid');
    const access = newToken('sba');
    const refresh = newToken('sbr');
    const userId = await this.ds.transaction((em) =>
      this.repo.rotate(em, tokenHash(refreshToken), {
        accessHash: tokenHash(access),
        accessTtlS: this.cfg.ACCESS_TOKEN_TTL_S,
        refreshHash: tokenHash(refresh),
      }),
    );
    if (!userId) throw new UnauthorizedException('refresh token is not valid (expired, revoked or already used)');
    return { accessToken: access, refreshToken: refresh, tokenType: 'Bearer', expiresIn: this.cfg.ACCESS_TOKEN_TTL_S };
  }

  async logout(p: Principal): Promise<void> {
    if (p.sessionId) await this.repo.revokeSession(this.ds.manager, p.sessionId);
  }

  /** Resolves a bearer access token or an API key to a principal; null when it is not valid. */
  async authenticate(token: string): Promise<Principal | null> {
    const kind = kindOf(token);
    if (kind === 'sba') {
      const row = await this.repo.findByAccessHash(this.ds.manager, tokenHash(token));
      if (!row) return null;
      return {
        kind: 'user',
        id: row.user_id,
        name: row.name,
        email: row.email,
        role: row.role,
        teamIds: row.team_ids,
        scopes: ROLE_SCOPES[row.role],
        sessionId: row.session_id,
      };
    }
    if (kind === 'sbk') {
      const key = await this.repo.useApiKey(this.ds.manager, tokenHash(token));
      if (!key) return null;
      const scopes = key.scopes as Scope[];
      // a bot gets nothing beyond BOT_SCOPES, even from a key stored with more (creation refuses such keys now)
      if (scopes.includes('bot'))
        return { kind: 'bot', id: key.id, name: key.name, email: null, role: 'admin', teamIds: [], scopes: scopes.filter((s) => BOT_SCOPES.includes(s)) };
      return { kind: 'api_key', id: key.id, name: key.name, email: null, role: 'admin', teamIds: [], scopes };
    }
    return null;
  }

  private async issue(em: import('typeorm').EntityManager, userId: string): Promise<TokenPair> {
    const access = newToken('sba');
    const refresh = newToken('sbr');
    await this.repo.createSession(em, {
      userId,
      accessHash: tokenHash(access),
      accessTtlS: this.cfg.ACCESS_TOKEN_TTL_S,
      refreshHash: tokenHash(refresh),
      refreshTtlS: this.cfg.REFRESH_TOKEN_TTL_S,
    });
    return { accessToken: access, refreshToken: refresh, tokenType: 'Bearer', expiresIn: this.cfg.ACCESS_TOKEN_TTL_S };
  }
}
