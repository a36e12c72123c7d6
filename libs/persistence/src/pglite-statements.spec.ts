import { ErrorScan, StatementCache, type StatementScope } from './pglite-statements';

const frame = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const z = (s: string) => Buffer.from(`${s}\0`);
const parse = (sql: string, name = '') => frame('P', Buffer.concat([z(name), z(sql), Buffer.from([0, 0])]));
const bind = (stmt = '') => frame('B', Buffer.concat([z(''), z(stmt), Buffer.from([0, 0, 0, 0, 0, 0])]));
const describeStmt = (name = '') => frame('D', Buffer.concat([Buffer.from('S'), z(name)]));
const execute = frame('E', Buffer.concat([z(''), Buffer.alloc(4)]));
const sync = frame('S', Buffer.alloc(0));
const query = (batch: string) => Buffer.concat([parse(batch), bind(), execute, sync]);

/** Reads back the messages of a batch as [type, statement name (P/B/D) or text]. */
function messages(buf: Buffer): [string, string][] {
  const out: [string, string][] = [];
  for (let at = 0; at < buf.length; ) {
    const type = String.fromCharCode(buf[at]);
    const len = 1 + buf.readInt32BE(at + 1);
    const body = buf.subarray(at + 5, at + len);
    const strings = body.toString('utf8').split('\0');
    out.push([type, type === 'P' ? strings[0] : type === 'B' ? strings[1] : type === 'D' ? strings[0].slice(1) : '']);
    at += len;
  }
  return out;
}

describe('StatementCache (PGliteServer prepares what clients send unnamed)', () => {
  const SQL = 'SELECT * FROM ingest.message WHERE id = $1';

  it('prepares a text once, names it, and answers later Parses of the same text itself', () => {
    const cache = new StatementCache();
    const a: StatementScope = { unnamed: null };
    const b: StatementScope = { unnamed: null };
    const first = cache.rewrite(a, query(SQL));
    expect(first.parseAnswered).toBe(false);
    expect(messages(first.batch)).toEqual([
      ['P', '__sb1'],
      ['B', '__sb1'],
      ['E', ''],
      ['S', ''],
    ]);
    const again = cache.rewrite(b, Buffer.concat([parse(SQL), bind(), describeStmt(), execute, sync]));
    expect(again.parseAnswered).toBe(true);
    expect(again.created).toEqual([]);
    expect(messages(again.batch)).toEqual([
      ['B', '__sb1'],
      ['D', '__sb1'],
      ['E', ''],
      ['S', ''],
    ]);
  });

  it('leaves alone named statements, non-DML and a cached text that is not first in its batch', () => {
    const cache = new StatementCache();
    const s: StatementScope = { unnamed: null };
    const named = Buffer.concat([parse(SQL, 'mine'), bind('mine'), execute, sync]);
    expect(cache.rewrite(s, named).batch).toBe(named);
    const begin = query('START TRANSACTION');
    expect(cache.rewrite(s, begin).batch).toBe(begin);
    cache.rewrite(s, query(SQL));
    const late = Buffer.concat([bind('mine'), execute, parse(SQL), bind(), execute, sync]);
    const r = cache.rewrite(s, late);
    expect(r.parseAnswered).toBe(false);
    expect(messages(r.batch).map(([t, n]) => `${t}:${n}`)).toEqual(['B:mine', 'E:', 'P:', 'B:', 'E:', 'S:']);
  });

  it('forgets every statement on DDL, forgets a failed batch, and closes what it evicts', () => {
    const cache = new StatementCache(2);
    const s: StatementScope = { unnamed: null };
    cache.rewrite(s, query('SELECT 1 WHERE $1'));
    cache.rewrite(s, query('SELECT 2 WHERE $1'));
    cache.rewrite(s, query('SELECT 3 WHERE $1')); // evicts __sb1
    expect(cache.size).toBe(2);
    expect(messages(cache.takeCloses()!)).toEqual([
      ['C', ''],
      ['S', ''],
    ]);
    expect(cache.takeCloses()).toBeNull();
    cache.rewrite(s, Buffer.concat([frame('Q', z('ALTER TABLE x ADD COLUMN y int')), sync]));
    expect(cache.size).toBe(0);
    expect(cache.takeCloses()).not.toBeNull();
    const r = cache.rewrite(s, query('SELECT * FROM nowhere WHERE $1'));
    cache.failed(r.created);
    expect(cache.size).toBe(0);
    expect(cache.rewrite(s, query('SELECT * FROM nowhere WHERE $1')).parseAnswered).toBe(false);
  });

  it('finds an ErrorResponse in output split across chunks', () => {
    const ok = Buffer.concat([frame('1', Buffer.alloc(0)), frame('C', z('SELECT 1'))]);
    const err = frame('E', z('SERROR'));
    const scan = new ErrorScan();
    const all = Buffer.concat([ok, err]);
    for (let i = 0; i < all.length; i += 3) scan.feed(all.subarray(i, i + 3));
    expect(scan.sawError).toBe(true);
    const clean = new ErrorScan();
    clean.feed(ok);
    expect(clean.sawError).toBe(false);
  });
});
