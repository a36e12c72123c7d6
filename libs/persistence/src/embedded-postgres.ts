import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGliteServer } from './pglite-server';

/**
 * PostgreSQL settings of the embedded database, given on PGlite's command line at every start (they win over the
 * data directory's postgresql.auto.conf, where older versions had written shared_buffers). Memory: PGlite starts
 * with PostgreSQL's 128 MB of shared buffers and 64 MB of maintenance memory, and WASM memory never shrinks once
 * grown; a single-machine install needs far less. Durability is PGlite's: it runs with fsync off (`-F`), a commit
 * writes its WAL to the files with pwrite before it answers (synchronous_commit stays on), so a killed process
 * loses nothing committed; a power cut or OS crash may lose the last commits (as any fsync=off PostgreSQL).
 */
export const EMBEDDED_PG_SETTINGS: Record<string, string> = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
  temp_buffers: '2MB',
};

/** Distinct SQL texts kept prepared in the embedded backend (the services use a few hundred). */
const PREPARED_STATEMENTS = 500;

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

interface WorkerInput {
  switchboardPglite: true;
  pgDir: string;
  host: string;
  port: number;
}
type WorkerMessage = { ready: number } | { failed: string } | { stopped: true };

/**
 * PostgreSQL embedded in this process (PGlite, WASM) with its data in `dataDir`, served on a local port to the
 * ordinary `pg` driver (PGliteServer), so TypeORM and every service's migrations run unchanged. PGlite and its wire
 * server run in a worker thread: the WASM backend executes statements synchronously, and on the main thread it
 * would stall every HTTP request and handler for as long; in its own thread it uses the second core. PGlite is one
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
  const input: WorkerInput = { switchboardPglite: true, pgDir, host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 };
  // this very module is the worker's code (compiled .js, or .ts under the same -r loader, which workers inherit)
  const worker = new Worker(`require(${JSON.stringify(__filename)})`, { eval: true, workerData: input });
  let stopping = false;
  const port = await new Promise<number>((res, rej) => {
    worker.on('message', (m: WorkerMessage) => {
      if ('ready' in m) res(m.ready);
      else if ('failed' in m) rej(new Error(`the embedded PostgreSQL did not start: ${m.failed}`));
    });
    worker.once('error', rej);
    worker.once('exit', (code) => {
      rej(new Error(`the embedded PostgreSQL stopped (exit ${code})`));
      if (!stopping) {
        // nothing can be stored any more: stop loudly rather than answer 503s forever
        process.stderr.write(`the embedded PostgreSQL stopped unexpectedly (exit ${code}); Switchboard exits\n`);
        process.exit(1);
      }
    });
  }).catch((err) => {
    stopping = true;
    rmSync(lock, { force: true });
    void worker.terminate();
    throw err;
  });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    async stop() {
      if (stopping) return;
      stopping = true;
      const stopped = new Promise<void>((r) => {
        worker.on('message', (m: WorkerMessage) => 'stopped' in m && r());
        worker.once('exit', () => r());
      });
      worker.postMessage('stop');
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 10_000).unref())]);
      await worker.terminate().catch(() => undefined);
      rmSync(lock, { force: true });
    },
  };
}

/** A full garbage collection on demand (V8's `gc`, exposed in a context of its own). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** In the worker: open PGlite on the data directory, serve it, close it cleanly on 'stop'. */
async function runWorker(input: WorkerInput): Promise<void> {
  const settings = Object.entries(EMBEDDED_PG_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const db = await PGlite.create({ dataDir: input.pgDir, extensions: { pg_trgm }, startParams: [...PGlite.defaultStartParams, ...settings] });
  // NodeFS writes through (no sync step); statements prepared once per SQL text (see pglite-statements.ts)
  const server = new PGliteServer(db, { syncToFs: false, preparedStatements: PREPARED_STATEMENTS });
  // PGlite's start leaves ~300 MB of garbage ArrayBuffers (file-system image, WASM bytes); this thread's small JS
  // heap would not trigger a collection for minutes, so collect now, and whenever buffers pile up again
  const gc = collector();
  gc();
  setInterval(() => process.memoryUsage().arrayBuffers > 64 * 1024 * 1024 && gc(), 5_000).unref();
  const port = await server.listen(input.port, input.host);
  parentPort!.on('message', (m) => {
    if (m !== 'stop') return;
    void (async () => {
      await server.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      parentPort!.postMessage({ stopped: true } satisfies WorkerMessage);
    })();
  });
  parentPort!.postMessage({ ready: port } satisfies WorkerMessage);
}

if (!isMainThread && (workerData as Partial<WorkerInput> | null)?.switchboardPglite) {
  runWorker(workerData as WorkerInput).catch((err) => {
    parentPort!.postMessage({ failed: (err as Error).message } satisfies WorkerMessage);
  });
}
