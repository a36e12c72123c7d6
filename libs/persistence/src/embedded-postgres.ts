import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGliteServer } from './pglite-server';

const SHARED_BUFFERS = '32MB';

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: what DATABASE_URL becomes for every service. */
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Whether a process with this pid is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PostgreSQL embedded in this process (PGlite, WASM) with its data in `dataDir`, served on a local port to the
 * ordinary `pg` driver (PGliteServer), so TypeORM and every service's migrations run unchanged. PGlite is one
 * backend: transactions from all connections run one at a time (short ones, please). One process owns a data
 * directory (a pid lock file; a stale one from a killed process is taken over).
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; host?: string; port?: number }): Promise<EmbeddedPostgres> {
  const dataDir = resolve(opts.dataDir);
  const pgDir = join(dataDir, 'pg');
  mkdirSync(pgDir, { recursive: true });
  const lock = join(dataDir, 'switchboard.pid');
  let holder = NaN;
  try {
    holder = Number(readFileSync(lock, 'utf8').trim());
  } catch {
    // no lock file
  }
  if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
    throw new Error(`the data directory ${dataDir} is in use by process ${holder} (one Switchboard per data directory)`);
  }
  writeFileSync(lock, String(process.pid));
  const open = () => PGlite.create({ dataDir: pgDir, extensions: { pg_trgm } });
  let db = await open();
  // PGlite starts with PostgreSQL's 128 MB of shared buffers, most of the process's memory; a single-machine
  // install needs far less. The setting is kept in the data directory and applies from the next start: on the
  // first start, reopen once.
  const { rows } = await db.query<{ sb: string }>(`SELECT current_setting('shared_buffers') AS sb`);
  if (rows[0]?.sb !== SHARED_BUFFERS) {
    await db.exec(`ALTER SYSTEM SET shared_buffers = '${SHARED_BUFFERS}'`);
    await db.close();
    db = await open();
  }
  const server = new PGliteServer(db);
  const port = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    async stop() {
      await server.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      rmSync(lock, { force: true });
    },
  };
}
