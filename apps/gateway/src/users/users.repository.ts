import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Role } from '../auth/principal';

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: Role;
  teamIds: string[];
  disabled: boolean;
  createdAt: string;
}

const SELECT_USER = `SELECT u.id, u.email, u.name, u.role, u.disabled_at, u.created_at,
    coalesce(array_agg(m.team_id ORDER BY m.team_id) FILTER (WHERE m.team_id IS NOT NULL), '{}') AS team_ids
  FROM gateway.app_user u LEFT JOIN gateway.team_member m ON m.user_id = u.id`;

function toView(r: Record<string, any>): UserView {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role,
    teamIds: r.team_ids,
    disabled: r.disabled_at !== null,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

@Injectable()
export class UsersRepository {
  async insert(em: EntityManager, u: { email: string; name: string; role: Role; passwordHash: string }): Promise<string | null> {
    const rows = await em.query(
      `INSERT INTO gateway.app_user (email, name, role, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
      [u.email, u.name, u.role, u.passwordHash],
    );
    return rows[0]?.id ?? null;
  }

  async update(
    em: EntityManager,
    id: string,
    u: { name?: string; role?: Role; passwordHash?: string; disabled?: boolean },
  ): Promise<boolean> {
    const [, count] = await em.query(
      `UPDATE gateway.app_user SET
         name = coalesce($2, name), role = coalesce($3, role), password_hash = coalesce($4, password_hash),
         disabled_at = CASE WHEN $5::boolean IS NULL THEN disabled_at WHEN $5 THEN coalesce(disabled_at, clock_timestamp()) ELSE NULL END,
         updated_at = clock_timestamp()
       WHERE id = $1`,
      [id, u.name ?? null, u.role ?? null, u.passwordHash ?? null, u.disabled ?? null],
    );
    return count > 0;
  }

  async setTeams(em: EntityManager, userId: string, teamIds: string[]): Promise<void> {
    await em.query(`DELETE FROM gateway.team_member WHERE user_id = $1`, [userId]);
    if (teamIds.length)
      await em.query(
        `INSERT INTO gateway.team_member (team_id, user_id) SELECT t, $1 FROM unnest($2::uuid[]) t ON CONFLICT DO NOTHING`,
        [userId, teamIds],
      );
  }

  async findById(em: EntityManager, id: string): Promise<UserView | null> {
    const rows = await em.query(`${SELECT_USER} WHERE u.id = $1 GROUP BY u.id`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async findByIds(em: EntityManager, ids: string[]): Promise<UserView[]> {
    if (!ids.length) return [];
    const rows = await em.query(`${SELECT_USER} WHERE u.id = ANY($1::uuid[]) GROUP BY u.id`, [ids]);
    return rows.map(toView);
  }

  async list(em: EntityManager, filter: { teamId?: string; role?: Role }): Promise<UserView[]> {
    const rows = await em.query(
      `${SELECT_USER}
       WHERE ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM gateway.team_member x WHERE x.user_id = u.id AND x.team_id = $1))
         AND ($2::text IS NULL OR u.role = $2)
       GROUP BY u.id ORDER BY lower(u.email) LIMIT 1000`,
      [filter.teamId ?? null, filter.role ?? null],
    );
    return rows.map(toView);
  }

  async anyAdmin(em: EntityManager): Promise<boolean> {
    const rows = await em.query(`SELECT 1 FROM gateway.app_user WHERE role = 'admin' AND disabled_at IS NULL LIMIT 1`);
    return rows.length > 0;
  }
}
