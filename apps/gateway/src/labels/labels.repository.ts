import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface LabelView {
  id: string;
  name: string;
  color: string;
  createdAt: string;
  updatedAt: string;
}

const COLS = 'id, name, color, created_at, updated_at';
const toView = (r: Record<string, any>): LabelView => ({
  id: r.id,
  name: r.name,
  color: r.color,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

@Injectable()
export class LabelsRepository {
  /** Null when a label of that name (any case) exists. */
  async insert(em: EntityManager, name: string, color: string): Promise<LabelView | null> {
    const rows = await em.query(
      `INSERT INTO gateway.label (name, color) VALUES ($1, $2) ON CONFLICT ((lower(name))) DO NOTHING RETURNING ${COLS}`,
      [name, color],
    );
    return rows[0] ? toView(rows[0]) : null;
  }

  /** Locks the row for the rest of the transaction. */
  async lock(em: EntityManager, id: string): Promise<LabelView | null> {
    const rows = await em.query(`SELECT ${COLS} FROM gateway.label WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async update(em: EntityManager, id: string, p: { name?: string; color?: string }): Promise<LabelView> {
    const [rows] = await em.query(
      `UPDATE gateway.label SET name = COALESCE($2, name), color = COALESCE($3, color), updated_at = clock_timestamp()
       WHERE id = $1 RETURNING ${COLS}`,
      [id, p.name ?? null, p.color ?? null],
    );
    return toView(rows[0]);
  }

  async delete(em: EntityManager, id: string): Promise<void> {
    await em.query(`DELETE FROM gateway.label WHERE id = $1`, [id]);
  }

  async get(em: EntityManager, id: string): Promise<LabelView | null> {
    const rows = await em.query(`SELECT ${COLS} FROM gateway.label WHERE id = $1`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async list(em: EntityManager): Promise<LabelView[]> {
    return (await em.query(`SELECT ${COLS} FROM gateway.label ORDER BY lower(name)`)).map(toView);
  }

  /** The catalogue entries for `names` (any case), keyed by lower-cased name. */
  async byNames(em: EntityManager, names: string[]): Promise<Map<string, LabelView>> {
    if (!names.length) return new Map();
    const rows = await em.query(`SELECT ${COLS} FROM gateway.label WHERE lower(name) = ANY($1::text[])`, [names.map((n) => n.toLowerCase())]);
    return new Map(rows.map((r: Record<string, any>) => [String(r.name).toLowerCase(), toView(r)]));
  }
}
