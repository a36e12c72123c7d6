import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface TeamView {
  id: string;
  name: string;
  memberCount: number;
  createdAt: string;
}

const toView = (r: Record<string, any>): TeamView => ({
  id: r.id,
  name: r.name,
  memberCount: Number(r.member_count ?? 0),
  createdAt: new Date(r.created_at).toISOString(),
});

const SELECT_TEAM = `SELECT t.id, t.name, t.created_at,
    (SELECT count(*) FROM gateway.team_member m WHERE m.team_id = t.id) AS member_count FROM gateway.team t`;

@Injectable()
export class TeamsRepository {
  /** Null when a team of that name (any case) exists. */
  async insert(em: EntityManager, name: string): Promise<TeamView | null> {
    const rows = await em.query(
      `INSERT INTO gateway.team (name) VALUES ($1) ON CONFLICT ((lower(name))) DO NOTHING RETURNING id, name, created_at`,
      [name],
    );
    return rows[0] ? toView(rows[0]) : null;
  }

  async rename(em: EntityManager, id: string, name: string): Promise<TeamView | null> {
    const [rows] = await em.query(`UPDATE gateway.team SET name = $2 WHERE id = $1 RETURNING id, name, created_at`, [id, name]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async findById(em: EntityManager, id: string): Promise<TeamView | null> {
    const rows = await em.query(`${SELECT_TEAM} WHERE t.id = $1`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async findByName(em: EntityManager, name: string): Promise<TeamView | null> {
    const rows = await em.query(`${SELECT_TEAM} WHERE lower(t.name) = lower($1)`, [name]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async list(em: EntityManager): Promise<TeamView[]> {
    return (await em.query(`${SELECT_TEAM} ORDER BY lower(t.name)`)).map(toView);
  }

  /** The ids among `ids` that are not teams. */
  async missing(em: EntityManager, ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await em.query(
      `SELECT x FROM unnest($1::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM gateway.team t WHERE t.id = x)`,
      [ids],
    );
    return rows.map((r: { x: string }) => r.x);
  }
}
