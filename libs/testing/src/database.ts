import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PREFIX = 'sb_test_';

function urlFor(db: string): string {
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the machine's PostgreSQL for one test file; services migrate it on start. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: urlFor(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Removes test databases left by runs that crashed more than an hour ago. */
export async function dropStaleTestDatabases(): Promise<number> {
  return admin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
      `${PREFIX}%`,
    ]);
    const cutoff = Date.now() / 1000 - 3600;
    let dropped = 0;
    for (const { datname } of rows) {
      const ts = Number(datname.slice(PREFIX.length).split('_')[0]);
      if (Number.isFinite(ts) && ts < cutoff) {
        await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
        dropped++;
      }
    }
    return dropped;
  });
}
