/**
 * Server-side prepared statements for the clients of PGliteServer, without their knowing. The `pg` driver (and so
 * TypeORM) sends every parameterised query as an unnamed Parse + Bind + Execute, so PostgreSQL parses, analyses and
 * plans it on every execution; in PGlite's WASM backend that is most of a short statement's cost (measured: a
 * keyed SELECT 680 µs unnamed vs 60 µs prepared; an UPDATE 610 vs 165 µs). PGlite being one backend session,
 * one named statement per distinct SQL text serves every connection: the first unnamed Parse of a text is renamed
 * to `__sb<n>`, later ones are answered with ParseComplete here and their Bind/Describe point at that name.
 *
 * Only plannable DML (SELECT/INSERT/UPDATE/DELETE/WITH) is kept, at most `max` texts (least recently used go).
 * PostgreSQL re-plans a prepared statement when a table it uses changes; the one thing it refuses is a changed
 * result shape (`SELECT *` after ALTER TABLE), so any DDL, search_path change or DISCARD forgets every statement.
 */

const PARSE_COMPLETE = Buffer.from([0x31, 0, 0, 0, 4]);
const CACHEABLE = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i;
const INVALIDATES = /(^|;)\s*(CREATE|ALTER|DROP|TRUNCATE|COMMENT|DO|REINDEX|DISCARD|DEALLOCATE|IMPORT|(SET|RESET)\s+(SESSION\s+|LOCAL\s+)?search_path)\b/i;
const PREFIX = '__sb';

/** What a connection's unnamed statement currently stands for (a cached name, or itself). */
export interface StatementScope {
  unnamed: string | null;
}

export interface Rewritten {
  batch: Buffer;
  /** The batch began with a Parse answered from the cache: write ParseComplete before its output. */
  parseAnswered: boolean;
  /** Names this batch creates: forgotten again if the batch fails. */
  created: string[];
}

function frame(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function cstring(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  return [buf.toString('utf8', at, end), end + 1];
}

export class StatementCache {
  /** SQL text + parameter types → statement name, in least-recently-used order. */
  private readonly names = new Map<string, string>();
  private seq = 0;
  private closing: string[] = [];

  constructor(private readonly max = 400) {}

  get size(): number {
    return this.names.size;
  }

  rewrite(scope: StatementScope, batch: Buffer): Rewritten {
    const out: Buffer[] = [];
    const created: string[] = [];
    let parseAnswered = false;
    let at = 0;
    let changed = false;
    while (at + 5 <= batch.length) {
      const type = batch[at];
      const len = 1 + batch.readInt32BE(at + 1);
      const msg = batch.subarray(at, at + len);
      const body = msg.subarray(5);
      const first = at === 0;
      at += len;
      if (type === 0x50 /* P */) {
        const [name, afterName] = cstring(body, 0);
        const [sql] = cstring(body, afterName);
        if (INVALIDATES.test(sql)) this.forgetAll();
        if (name !== '' || !CACHEABLE.test(sql)) {
          if (name === '') scope.unnamed = null;
          out.push(msg);
          continue;
        }
        const key = body.subarray(afterName).toString('latin1');
        const known = this.names.get(key);
        if (known && first) {
          this.names.delete(key); // most recently used
          this.names.set(key, known);
          scope.unnamed = known;
          parseAnswered = true;
          changed = true;
          continue;
        }
        if (known) {
          // not first in its batch: ParseComplete could not be placed in order; leave this one unnamed
          scope.unnamed = null;
          out.push(msg);
          continue;
        }
        const fresh = `${PREFIX}${++this.seq}`;
        this.names.set(key, fresh);
        created.push(fresh);
        scope.unnamed = fresh;
        out.push(frame(type, Buffer.concat([Buffer.from(`${fresh}\0`), body.subarray(afterName)])));
        changed = true;
        this.evict();
        continue;
      }
      if (type === 0x42 /* B */ && scope.unnamed) {
        const [portal, afterPortal] = cstring(body, 0);
        const [stmt, afterStmt] = cstring(body, afterPortal);
        if (stmt === '') {
          out.push(frame(type, Buffer.concat([Buffer.from(`${portal}\0${scope.unnamed}\0`), body.subarray(afterStmt)])));
          changed = true;
          continue;
        }
      }
      if (type === 0x44 /* D */ && scope.unnamed && body[0] === 0x53 /* S */ && body[1] === 0) {
        out.push(frame(type, Buffer.from(`S${scope.unnamed}\0`)));
        changed = true;
        continue;
      }
      if (type === 0x51 /* Q */) {
        const [sql] = cstring(body, 0);
        if (INVALIDATES.test(sql)) this.forgetAll();
        scope.unnamed = null; // a simple query drops the unnamed statement
      }
      if (type === 0x43 /* C */ && body[0] === 0x53 && body[1] === 0) scope.unnamed = null;
      out.push(msg);
    }
    return { batch: changed ? Buffer.concat(out) : batch, parseAnswered, created };
  }

  /** The batch that created `names` failed somewhere: they may not exist; forget them. */
  failed(names: string[]): void {
    if (names.length === 0) return;
    const gone = new Set(names);
    for (const [k, v] of this.names) if (gone.has(v)) this.names.delete(k);
    this.closing.push(...names);
  }

  forgetAll(): void {
    this.closing.push(...this.names.values());
    this.names.clear();
  }

  /** Close messages (+ Sync) for statements no longer kept, or null; run them outside any transaction. */
  takeCloses(): Buffer | null {
    if (this.closing.length === 0) return null;
    const names = this.closing;
    this.closing = [];
    return Buffer.concat([...names.map((n) => frame(0x43, Buffer.from(`S${n}\0`))), frame(0x53, Buffer.alloc(0))]);
  }

  private evict(): void {
    while (this.names.size > this.max) {
      const [k, v] = this.names.entries().next().value as [string, string];
      this.names.delete(k);
      this.closing.push(v);
    }
  }
}

/** Finds ErrorResponse messages in a server's output, across chunk boundaries. */
export class ErrorScan {
  private need = 0;
  private head: number[] = [];
  sawError = false;

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.need > 0) {
        const skip = Math.min(this.need, chunk.length - i);
        this.need -= skip;
        i += skip;
        continue;
      }
      this.head.push(chunk[i++]);
      if (this.head.length < 5) continue;
      const [type, a, b, c, d] = this.head;
      this.head = [];
      if (type === 0x45 /* E */) this.sawError = true;
      this.need = ((a << 24) | (b << 16) | (c << 8) | d) - 4;
    }
  }
}

export const parseCompleteMessage = PARSE_COMPLETE;
