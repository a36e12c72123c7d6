import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Scope } from './principal';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const toView = (r: Record<string, any>): ApiKeyView => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: r.scopes,
  createdBy: r.created_by,
  createdAt: iso(r.created_at)!,
  lastUsedAt: iso(r.last_used_at),
  revokedAt: iso(r.revoked_at),
});
const COLS = 'id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at';

@Injectable()
export class ApiKeysRepository {
  async insert(
    em: EntityManager,
    k: { name: string; prefix: string; hash: Buffer; scopes: Scope[]; createdBy: string | null },
  ): Promise<ApiKeyView> {
    const rows = await em.query(
      `INSERT INTO gateway.api_key (name, prefix, key_hash, scopes, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLS}`,
      [k.name, k.prefix, k.hash, k.scopes, k.createdBy],
    );
    return toView(rows[0]);
  }

  async list(em: EntityManager): Promise<ApiKeyView[]> {
    return (await em.query(`SELECT ${COLS} FROM gateway.api_key ORDER BY created_at DESC LIMIT 1000`)).map(toView);
  }

  async findById(em: EntityManager, id: string): Promise<ApiKeyView | null> {
    const rows = await em.query(`SELECT ${COLS} FROM gateway.api_key WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async revoke(em: EntityManager, id: string): Promise<ApiKeyView | null> {
    const [rows] = await em.query(
      `UPDATE gateway.api_key SET revoked_at = coalesce(revoked_at, clock_timestamp()) WHERE id = $1 RETURNING ${COLS}`,
      [id],
    );
    return rows[0] ? toView(rows[0]) : null;
  }
}
