import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

const ROOT = resolve(__dirname, '..', '..', '..');

/** Starts the embedded PostgreSQL (PGlite behind PGliteServer) on `dir` in a child process; resolves its URL. */
function startDb(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['-r', join(ROOT, 'test/support/ts-register.js'), join(ROOT, 'test/support/embedded-db.ts'), dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((res, rej) => {
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /url=(\S+)/.exec(out);
      if (m) res({ url: m[1], proc });
    });
    proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    proc.once('exit', (code) => rej(new Error(`embedded database exited (${code}): ${out}`)));
  });
}

async function client(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined); // the last test kills the database under every open connection
  await c.connect();
  return c;
}

const killed = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)));

/**
 * Single-machine mode's database: PGlite is one backend session, served to many `pg` connections. What the
 * services rely on must hold there: concurrent queries never mix, a transaction's FOR UPDATE SKIP LOCKED claim
 * is not shared (transactions run one after another), a connection dropped mid-transaction is rolled back, and
 * committed writes survive the process being killed.
 */
describe('embedded PostgreSQL (PGlite + PGliteServer)', () => {
  let dir: string;
  let db: { url: string; proc: ChildProcess };
  const clients: Client[] = [];
  const open = async () => {
    const c = await client(db.url);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-pglite-'));
    db = await startDb(dir);
    const c = await open();
    await c.query('CREATE TABLE job (id int PRIMARY KEY, taken_by text)');
    await c.query('INSERT INTO job (id) SELECT generate_series(1, 4)');
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    db?.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers concurrent parameterised queries from many connections, each with its own result', async () => {
    const cs = await Promise.all(Array.from({ length: 8 }, open));
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        cs[i % cs.length].query(i % 2 ? 'SELECT $1::int + 1 AS v' : 'SELECT $1::int * 10 AS v, $2::text AS w', i % 2 ? [i] : [i, 'x']),
      ),
    );
    expect(results.map((r) => r.rows[0].v)).toEqual(Array.from({ length: 400 }, (_, i) => (i % 2 ? i + 1 : i * 10)));
  });

  it('FOR UPDATE SKIP LOCKED claims are never shared: a second claimer runs after the first commits', async () => {
    const [a, b] = [await open(), await open()];
    const order: string[] = [];
    const claim = async (c: Client, who: string) => {
      await c.query('BEGIN');
      const { rows } = await c.query('SELECT id FROM job WHERE taken_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED');
      order.push(`${who} claimed ${rows[0].id}`);
      await c.query('UPDATE job SET taken_by = $1 WHERE id = $2', [who, rows[0].id]);
      return rows[0].id as number;
    };
    const first = await claim(a, 'a');
    const second = claim(b, 'b'); // waits: a's transaction holds the one backend
    await new Promise((r) => setTimeout(r, 100));
    order.push('a commits');
    await a.query('COMMIT');
    const got = await second;
    await b.query('COMMIT');
    expect(order).toEqual(['a claimed 1', 'a commits', 'b claimed 2']);
    expect([first, got]).toEqual([1, 2]);
  });

  it('a connection dropped inside its transaction is rolled back and the others carry on', async () => {
    const [a, b] = [await open(), await open()];
    await a.query('BEGIN');
    await a.query(`UPDATE job SET taken_by = 'ghost' WHERE id = 3`);
    const waiting = b.query('SELECT taken_by FROM job WHERE id = 3');
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect((await waiting).rows[0].taken_by).toBeNull();
  });

  it('a single statement waiting for the backend goes before transactions waiting to start (a webhook receipt is not stuck behind processing)', async () => {
    const [a, b, c, d] = [await open(), await open(), await open(), await open()];
    await a.query('BEGIN');
    await a.query(`UPDATE job SET taken_by = taken_by WHERE id = 1`);
    const done: string[] = [];
    const tx = async (cl: Client, who: string) => {
      await cl.query('BEGIN');
      done.push(`${who} began`);
      await cl.query('COMMIT');
    };
    const waiting = [tx(b, 'b'), tx(c, 'c')];
    await new Promise((r) => setTimeout(r, 50)); // b and c are queued first
    const single = d.query('SELECT count(*)::int AS n FROM job').then((r) => done.push(`d read ${r.rows[0].n}`));
    await new Promise((r) => setTimeout(r, 50));
    await a.query('COMMIT');
    await Promise.all([...waiting, single]);
    expect(done).toEqual(['d read 4', 'b began', 'c began']);
  });

  it('keeps answering right with statements prepared behind the scenes: errors, a changed table, the settings', async () => {
    const [a, b] = [await open(), await open()];
    await a.query('CREATE TABLE note (id int PRIMARY KEY, body text)');
    await a.query('INSERT INTO note VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
    const read = (c: Client, id: number) => c.query('SELECT * FROM note WHERE id = $1', [id]);
    // the same text from two connections, many times: one prepared statement serves both
    for (let i = 0; i < 5; i++) {
      expect((await read(a, 1)).rows).toEqual([{ id: 1, body: 'one' }]);
      expect((await read(b, 2)).rows).toEqual([{ id: 2, body: 'two' }]);
    }
    // a failing first use is not kept: the same text works once the table exists
    await expect(a.query('SELECT * FROM later WHERE id = $1', [1])).rejects.toThrow(/later/);
    await a.query('CREATE TABLE later (id int)');
    await a.query('INSERT INTO later VALUES (1)');
    expect((await a.query('SELECT * FROM later WHERE id = $1', [1])).rows).toEqual([{ id: 1 }]);
    // a new column changes what SELECT * returns (PostgreSQL refuses that for a kept plan): DDL forgets them
    await b.query('ALTER TABLE note ADD COLUMN tag text');
    expect((await read(a, 1)).rows).toEqual([{ id: 1, body: 'one', tag: null }]);
    // in a transaction that fails half-way, then rolls back, the statements still serve
    await a.query('BEGIN');
    await expect(a.query('INSERT INTO note VALUES ($1, $2)', [1, 'dup'])).rejects.toThrow(/duplicate key/);
    await a.query('ROLLBACK');
    expect((await read(b, 1)).rows).toEqual([{ id: 1, body: 'one', tag: null }]);
    // the embedded settings are applied (memory, and commits written before they are answered)
    const setting = async (n: string) => (await a.query('SELECT current_setting($1) AS v', [n])).rows[0].v;
    expect([await setting('shared_buffers'), await setting('synchronous_commit')]).toEqual(['16MB', 'on']);
  });

  it('committed writes survive the process being killed', async () => {
    const c = await open();
    await c.query(`UPDATE job SET taken_by = 'kept' WHERE id = 4`);
    db.proc.kill('SIGKILL');
    await killed(db.proc);
    db = await startDb(dir);
    const again = await open();
    expect((await again.query('SELECT id, taken_by FROM job ORDER BY id')).rows).toEqual([
      { id: 1, taken_by: 'a' },
      { id: 2, taken_by: 'b' },
      { id: 3, taken_by: null },
      { id: 4, taken_by: 'kept' },
    ]);
  }, 60_000);
});
