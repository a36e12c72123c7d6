import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type Status = 'active' | 'disabled';
export const SECRET_FIELDS = ['appSecret', 'verifyToken', 'accessToken'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];
const COLUMN: Record<SecretField, string> = { appSecret: 'app_secret', verifyToken: 'verify_token', accessToken: 'access_token' };

export interface MetaAppRow {
  id: string;
  name: string;
  metaAppId: string | null;
  status: Status;
  sealed: Record<SecretField, string | null>;
  last4: Record<SecretField, string | null>;
  createdAt: string;
  updatedAt: string;
}

export interface WabaRow {
  id: string;
  wabaId: string;
  name: string;
  appId: string;
  status: Status;
  createdAt: string;
  updatedAt: string;
}

export interface NumberRow {
  id: string;
  phoneNumberId: string;
  wabaId: string;
  /** The WABA's row id. */
  wabaRowId: string;
  displayNumber: string;
  defaultTeamId: string | null;
  graphApiVersion: string;
  status: Status;
  lastTest: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

/** What calling the Graph API for a number needs (sealed token; opened by the service). */
export interface NumberCredentialsRow {
  phoneNumberId: string;
  wabaId: string;
  graphApiVersion: string;
  accessTokenSealed: string | null;
  active: boolean;
}

const iso = (d: unknown) => new Date(d as string).toISOString();
const toApp = (r: Record<string, any>): MetaAppRow => ({
  id: r.id,
  name: r.name,
  metaAppId: r.meta_app_id,
  status: r.status,
  sealed: { appSecret: r.app_secret_sealed, verifyToken: r.verify_token_sealed, accessToken: r.access_token_sealed },
  last4: { appSecret: r.app_secret_last4, verifyToken: r.verify_token_last4, accessToken: r.access_token_last4 },
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
const toWaba = (r: Record<string, any>): WabaRow => ({
  id: r.id,
  wabaId: r.waba_id,
  name: r.name,
  appId: r.app_id,
  status: r.status,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
const toNumber = (r: Record<string, any>): NumberRow => ({
  id: r.id,
  phoneNumberId: r.phone_number_id,
  wabaId: r.waba_waba_id,
  wabaRowId: r.waba_id,
  displayNumber: r.display_number,
  defaultTeamId: r.default_team_id,
  graphApiVersion: r.graph_api_version,
  status: r.status,
  lastTest: r.last_test,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
const NUMBER_SELECT = `SELECT n.*, w.waba_id AS waba_waba_id FROM gateway.phone_number n JOIN gateway.waba w ON w.id = n.waba_id`;

/** The registry of Meta apps, WABAs and phone numbers. Secrets arrive and leave sealed. */
@Injectable()
export class AccountsRepository {
  async insertApp(em: EntityManager, a: { name: string; metaAppId: string | null; sealed: Partial<Record<SecretField, { sealed: string; last4: string }>> }): Promise<MetaAppRow> {
    const s = (f: SecretField) => a.sealed[f] ?? { sealed: null, last4: null };
    const rows = await em.query(
      `INSERT INTO gateway.meta_app (name, meta_app_id, app_secret_sealed, app_secret_last4, verify_token_sealed, verify_token_last4, access_token_sealed, access_token_last4)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [a.name, a.metaAppId, s('appSecret').sealed, s('appSecret').last4, s('verifyToken').sealed, s('verifyToken').last4, s('accessToken').sealed, s('accessToken').last4],
    );
    return toApp(rows[0]);
  }

  async lockApp(em: EntityManager, id: string): Promise<MetaAppRow | null> {
    const rows = await em.query(`SELECT * FROM gateway.meta_app WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ? toApp(rows[0]) : null;
  }

  async getApp(em: EntityManager, id: string): Promise<MetaAppRow | null> {
    const rows = await em.query(`SELECT * FROM gateway.meta_app WHERE id = $1`, [id]);
    return rows[0] ? toApp(rows[0]) : null;
  }

  async listApps(em: EntityManager): Promise<MetaAppRow[]> {
    return (await em.query(`SELECT * FROM gateway.meta_app ORDER BY created_at, id`)).map(toApp);
  }

  async updateApp(
    em: EntityManager,
    id: string,
    p: { name?: string; metaAppId?: string | null; status?: Status; sealed?: Partial<Record<SecretField, { sealed: string; last4: string }>> },
  ): Promise<MetaAppRow> {
    const sets: string[] = [];
    const args: unknown[] = [id];
    const set = (col: string, v: unknown) => {
      args.push(v);
      sets.push(`${col} = $${args.length}`);
    };
    if (p.name !== undefined) set('name', p.name);
    if (p.metaAppId !== undefined) set('meta_app_id', p.metaAppId);
    if (p.status !== undefined) set('status', p.status);
    for (const [f, v] of Object.entries(p.sealed ?? {}) as [SecretField, { sealed: string; last4: string }][]) {
      set(`${COLUMN[f]}_sealed`, v.sealed);
      set(`${COLUMN[f]}_last4`, v.last4);
    }
    const rows = await em.query(`UPDATE gateway.meta_app SET ${[...sets, 'updated_at = clock_timestamp()'].join(', ')} WHERE id = $1 RETURNING *`, args);
    return toApp(rows[0][0]);
  }

  /** Secrets of active apps, for webhook signature and verify-token checks. */
  async activeAppSecrets(em: EntityManager): Promise<{ id: string; appSecret: string | null; verifyToken: string | null }[]> {
    const rows = await em.query(`SELECT id, app_secret_sealed, verify_token_sealed FROM gateway.meta_app WHERE status = 'active' ORDER BY created_at, id`);
    return rows.map((r: Record<string, any>) => ({ id: r.id, appSecret: r.app_secret_sealed, verifyToken: r.verify_token_sealed }));
  }

  async insertWaba(em: EntityManager, w: { wabaId: string; name: string; appId: string }): Promise<WabaRow | null> {
    const rows = await em.query(
      `INSERT INTO gateway.waba (waba_id, name, app_id) VALUES ($1, $2, $3) ON CONFLICT (waba_id) DO NOTHING RETURNING *`,
      [w.wabaId, w.name, w.appId],
    );
    return rows[0] ? toWaba(rows[0]) : null;
  }

  async lockWaba(em: EntityManager, wabaId: string): Promise<WabaRow | null> {
    const rows = await em.query(`SELECT * FROM gateway.waba WHERE waba_id = $1 FOR UPDATE`, [wabaId]);
    return rows[0] ? toWaba(rows[0]) : null;
  }

  async getWaba(em: EntityManager, wabaId: string): Promise<WabaRow | null> {
    const rows = await em.query(`SELECT * FROM gateway.waba WHERE waba_id = $1`, [wabaId]);
    return rows[0] ? toWaba(rows[0]) : null;
  }

  async listWabas(em: EntityManager): Promise<WabaRow[]> {
    return (await em.query(`SELECT * FROM gateway.waba ORDER BY created_at, id`)).map(toWaba);
  }

  async updateWaba(em: EntityManager, id: string, p: { name?: string; appId?: string; status?: Status }): Promise<WabaRow> {
    const rows = await em.query(
      `UPDATE gateway.waba SET name = COALESCE($2, name), app_id = COALESCE($3, app_id), status = COALESCE($4, status), updated_at = clock_timestamp()
       WHERE id = $1 RETURNING *`,
      [id, p.name ?? null, p.appId ?? null, p.status ?? null],
    );
    return toWaba(rows[0][0]);
  }

  async insertNumber(
    em: EntityManager,
    n: { phoneNumberId: string; wabaRowId: string; displayNumber: string; defaultTeamId: string | null; graphApiVersion: string },
  ): Promise<boolean> {
    const rows = await em.query(
      `INSERT INTO gateway.phone_number (phone_number_id, waba_id, display_number, default_team_id, graph_api_version)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (phone_number_id) DO NOTHING RETURNING id`,
      [n.phoneNumberId, n.wabaRowId, n.displayNumber, n.defaultTeamId, n.graphApiVersion],
    );
    return rows.length > 0;
  }

  async getNumber(em: EntityManager, phoneNumberId: string, lock = false): Promise<NumberRow | null> {
    const rows = await em.query(`${NUMBER_SELECT} WHERE n.phone_number_id = $1${lock ? ' FOR UPDATE OF n' : ''}`, [phoneNumberId]);
    return rows[0] ? toNumber(rows[0]) : null;
  }

  async listNumbers(em: EntityManager, f: { wabaId?: string; status?: Status }): Promise<NumberRow[]> {
    const rows = await em.query(
      `${NUMBER_SELECT} WHERE ($1::text IS NULL OR w.waba_id = $1) AND ($2::text IS NULL OR n.status = $2) ORDER BY n.created_at, n.id`,
      [f.wabaId ?? null, f.status ?? null],
    );
    return rows.map(toNumber);
  }

  async updateNumber(
    em: EntityManager,
    phoneNumberId: string,
    p: { displayNumber?: string; defaultTeamId?: string | null; graphApiVersion?: string; status?: Status; lastTest?: Record<string, unknown> },
  ): Promise<void> {
    await em.query(
      `UPDATE gateway.phone_number SET display_number = COALESCE($2, display_number),
         default_team_id = CASE WHEN $3::boolean THEN $4::uuid ELSE default_team_id END,
         graph_api_version = COALESCE($5, graph_api_version), status = COALESCE($6, status),
         last_test = COALESCE($7::jsonb, last_test), updated_at = clock_timestamp()
       WHERE phone_number_id = $1`,
      [
        phoneNumberId,
        p.displayNumber ?? null,
        p.defaultTeamId !== undefined,
        p.defaultTeamId ?? null,
        p.graphApiVersion ?? null,
        p.status ?? null,
        p.lastTest ? JSON.stringify(p.lastTest) : null,
      ],
    );
  }

  async credentials(em: EntityManager, phoneNumberId: string): Promise<NumberCredentialsRow | null> {
    const rows = await em.query(
      `SELECT n.phone_number_id, w.waba_id, n.graph_api_version, a.access_token_sealed,
              (n.status = 'active' AND w.status = 'active' AND a.status = 'active') AS active
       FROM gateway.phone_number n JOIN gateway.waba w ON w.id = n.waba_id JOIN gateway.meta_app a ON a.id = w.app_id
       WHERE n.phone_number_id = $1`,
      [phoneNumberId],
    );
    const r = rows[0];
    return r ? { phoneNumberId: r.phone_number_id, wabaId: r.waba_id, graphApiVersion: r.graph_api_version, accessTokenSealed: r.access_token_sealed, active: r.active } : null;
  }

  /** Every sealed secret, for re-encryption under the current key. */
  async allSealed(em: EntityManager): Promise<{ table: 'meta_app' | 'event_subscription'; id: string; column: string; sealed: string }[]> {
    const rows = await em.query(
      `SELECT 'meta_app' AS t, id, 'app_secret_sealed' AS c, app_secret_sealed AS s FROM gateway.meta_app WHERE app_secret_sealed IS NOT NULL
       UNION ALL SELECT 'meta_app', id, 'verify_token_sealed', verify_token_sealed FROM gateway.meta_app WHERE verify_token_sealed IS NOT NULL
       UNION ALL SELECT 'meta_app', id, 'access_token_sealed', access_token_sealed FROM gateway.meta_app WHERE access_token_sealed IS NOT NULL
       UNION ALL SELECT 'event_subscription', id, 'secret_sealed', secret_sealed FROM gateway.event_subscription`,
    );
    return rows.map((r: Record<string, any>) => ({ table: r.t, id: r.id, column: r.c, sealed: r.s }));
  }

  /**
   * Replaces a sealed secret only if it still holds `expected` (what was read and re-sealed): a secret an admin
   * changed meanwhile is left as they set it, never overwritten by the old value. Returns whether it changed.
   */
  async replaceSealed(em: EntityManager, table: 'meta_app' | 'event_subscription', id: string, column: string, sealed: string, expected: string): Promise<boolean> {
    if (!/^(app_secret|verify_token|access_token|secret)_sealed$/.test(column)) throw new Error(`not a sealed column: ${column}`);
    const [rows] = await em.query(
      `UPDATE gateway.${table === 'meta_app' ? 'meta_app' : 'event_subscription'} SET ${column} = $2 WHERE id = $1 AND ${column} = $3 RETURNING id`,
      [id, sealed, expected],
    );
    return rows.length > 0;
  }
}
