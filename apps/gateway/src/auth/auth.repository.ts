import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Role, Scope } from './principal';

export interface UserAuthRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  disabled_at: Date | null;
}

export interface SessionUserRow {
  session_id: string;
  access_expires_at: Date;
  user_id: string;
  email: string;
  name: string;
  role: Role;
  team_ids: string[];
}

export interface ApiKeyRow {
  id: string;
  name: string;
  scopes: Scope[];
}

/** Sessions, API-key lookups and login failures. Tokens are only ever looked up by their SHA-256. */
@Injectable()
export class AuthRepository {
  async findUserForLogin(em: EntityManager, email: string): Promise<UserAuthRow | null> {
    const rows = await em.query(
      `SELECT id, email, name, role, password_hash, disabled_at FROM gateway.app_user WHERE lower(email) = lower($1)`,
      [email],
    );
    return rows[0] ?? null;
  }

  /** Serialises logins for one email inside the caller's transaction (throttle counts stay exact). */
  async lockLoginEmail(em: EntityManager, email: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('login:' || lower($1)))`, [email]);
  }

  async recentFailures(em: EntityManager, email: string, ip: string, windowS: number) {
    const [row] = await em.query(
      `SELECT
         count(*) FILTER (WHERE email = lower($1))::int AS by_email,
         count(*) FILTER (WHERE ip = $2)::int AS by_ip,
         min(at) FILTER (WHERE email = lower($1)) AS oldest_email,
         min(at) FILTER (WHERE ip = $2) AS oldest_ip
       FROM gateway.login_failure
       WHERE (email = lower($1) OR ip = $2) AND at > clock_timestamp() - make_interval(secs => $3)`,
      [email, ip, windowS],
    );
    return row as { by_email: number; by_ip: number; oldest_email: Date | null; oldest_ip: Date | null };
  }

  async recordFailure(em: EntityManager, email: string, ip: string): Promise<void> {
    await em.query(`INSERT INTO gateway.login_failure (email, ip) VALUES (lower($1), $2)`, [email, ip]);
  }

  async clearFailures(em: EntityManager, email: string): Promise<void> {
    await em.query(`DELETE FROM gateway.login_failure WHERE email = lower($1)`, [email]);
  }

  async createSession(
    em: EntityManager,
    s: { userId: string; accessHash: Buffer; accessTtlS: number; refreshHash: Buffer; refreshTtlS: number },
  ): Promise<string> {
    const [row] = await em.query(
      `INSERT INTO gateway.auth_session (user_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at)
       VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3), $4, clock_timestamp() + make_interval(secs => $5))
       RETURNING id`,
      [s.userId, s.accessHash, s.accessTtlS, s.refreshHash, s.refreshTtlS],
    );
    return row.id;
  }

  /** A live session (not revoked, access token not expired) with its user (not disabled) and teams. */
  async findByAccessHash(em: EntityManager, hash: Buffer): Promise<SessionUserRow | null> {
    const rows = await em.query(
      `SELECT s.id AS session_id, s.access_expires_at, u.id AS user_id, u.email, u.name, u.role,
              coalesce(array_agg(m.team_id) FILTER (WHERE m.team_id IS NOT NULL), '{}') AS team_ids
       FROM gateway.auth_session s
       JOIN gateway.app_user u ON u.id = s.user_id AND u.disabled_at IS NULL
       LEFT JOIN gateway.team_member m ON m.user_id = u.id
       WHERE s.access_hash = $1 AND s.revoked_at IS NULL AND s.access_expires_at > clock_timestamp()
       GROUP BY s.id, u.id`,
      [hash],
    );
    return rows[0] ?? null;
  }

  /**
   * Rotates both tokens of the session holding this refresh token. A refresh token that was already rotated
   * away (replayed, so possibly stolen) revokes the whole session. Returns the user id, or null.
   */
  async rotate(
    em: EntityManager,
    presented: Buffer,
    next: { accessHash: Buffer; accessTtlS: number; refreshHash: Buffer },
  ): Promise<string | null> {
    const [updated]: [{ user_id: string }[], number] = await em.query(
      `UPDATE gateway.auth_session s
       SET access_hash = $2, access_expires_at = clock_timestamp() + make_interval(secs => $3),
           prev_refresh_hash = refresh_hash, refresh_hash = $4
       FROM gateway.app_user u
       WHERE s.refresh_hash = $1 AND s.revoked_at IS NULL AND s.refresh_expires_at > clock_timestamp()
         AND u.id = s.user_id AND u.disabled_at IS NULL
       RETURNING s.user_id`,
      [presented, next.accessHash, next.accessTtlS, next.refreshHash],
    );
    if (updated.length === 0) {
      await em.query(
        `UPDATE gateway.auth_session SET revoked_at = clock_timestamp() WHERE prev_refresh_hash = $1 AND revoked_at IS NULL`,
        [presented],
      );
      return null;
    }
    return updated[0].user_id;
  }

  async revokeSession(em: EntityManager, sessionId: string): Promise<void> {
    await em.query(`UPDATE gateway.auth_session SET revoked_at = clock_timestamp() WHERE id = $1 AND revoked_at IS NULL`, [
      sessionId,
    ]);
  }

  async revokeUserSessions(em: EntityManager, userId: string): Promise<void> {
    await em.query(
      `UPDATE gateway.auth_session SET revoked_at = clock_timestamp() WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
  }

  /** A live API key; records the time it was used (at most every 30 s, so busy keys do not rewrite the row per call). */
  async useApiKey(em: EntityManager, hash: Buffer): Promise<ApiKeyRow | null> {
    const rows = await em.query(
      `WITH k AS (SELECT id, name, scopes, last_used_at FROM gateway.api_key WHERE key_hash = $1 AND revoked_at IS NULL),
       touched AS (
         UPDATE gateway.api_key a SET last_used_at = clock_timestamp() FROM k
         WHERE a.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < clock_timestamp() - interval '30 seconds')
         RETURNING a.id)
       SELECT id, name, scopes FROM k`,
      [hash],
    );
    return rows[0] ?? null;
  }
}
