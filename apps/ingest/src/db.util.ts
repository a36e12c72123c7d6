import type { EntityManager } from 'typeorm';

/** Rows of a query; TypeORM returns `[rows, count]` for UPDATE/DELETE on PostgreSQL and `rows` otherwise. */
export async function rows<T = Record<string, any>>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const r = await em.query(sql, params);
  return (Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? r[0] : r) as T[];
}

export async function one<T = Record<string, any>>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await rows<T>(em, sql, params))[0];
}

/** Transaction-scoped advisory lock on a text key. */
export async function lockKey(em: EntityManager, key: string): Promise<void> {
  await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [key]);
}
