import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { ErrorScan, StatementCache, parseCompleteMessage, type StatementScope } from './pglite-statements';

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
/** Message types after which the client waits for an answer: the end of one atomic batch. */
const BATCH_END = new Set(['S', 'Q', 'p', 'H', 'c', 'f']);

/** Autocommit batches that may overtake waiting transaction starts in a row. */
const QUICK_RUN = 8;
const TX_START = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;

/** Whether a batch opens a transaction (a simple Query or a Parse of BEGIN / START TRANSACTION). */
function opensTransaction(batch: Buffer): boolean {
  const type = batch[0];
  if (type === 0x51 /* Q */) return TX_START.test(batch.toString('utf8', 5, Math.min(batch.length, 64)));
  if (type !== 0x50 /* P */) return false;
  const nameEnd = batch.indexOf(0, 5);
  return nameEnd > 0 && TX_START.test(batch.toString('utf8', nameEnd + 1, Math.min(batch.length, nameEnd + 60)));
}

interface Conn extends StatementScope {
  socket: Socket;
  /** The startup exchange is done (later batches are protocol messages). */
  greeted: boolean;
  buf: Buffer;
  started: boolean;
  pending: Buffer[];
  closed: boolean;
}

/**
 * Serves one PGlite database to ordinary PostgreSQL clients on a local TCP port. PGlite is a single backend
 * session, so this server runs one client batch at a time — a batch being everything up to a Sync or simple Query
 * (so one client's Parse/Bind/Execute never interleaves with another's, which breaks unnamed portals in
 * pglite-socket's per-message queue) — and, while a client has a transaction open, only that client's batches, until
 * it commits or rolls back. A client that disconnects inside a transaction has it rolled back.
 */
export class PGliteServer {
  private server?: Server;
  private readonly conns = new Set<Conn>();
  private owner: Conn | null = null;
  private busy = false;
  /** Autocommit batches run ahead of waiting transaction starts, in a row. */
  private quickRun = 0;
  private readonly statements: StatementCache | null;

  /**
   * `syncToFs: false` when the data directory is PGlite's NodeFS, which writes through to the files as PostgreSQL
   * writes (its syncToFs does nothing; skipping it saves a lock round per batch).
   */
  constructor(
    private readonly db: PGlite,
    private readonly opts: { syncToFs?: boolean; preparedStatements?: number } = {},
  ) {
    this.statements = opts.preparedStatements ? new StatementCache(opts.preparedStatements) : null;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const c: Conn = { socket, buf: Buffer.alloc(0), started: false, greeted: false, pending: [], closed: false, unnamed: null };
    this.conns.add(c);
    socket.on('data', (d) => this.receive(c, d));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => void this.drop(c));
  }

  private receive(c: Conn, data: Buffer): void {
    c.buf = Buffer.concat([c.buf, data]);
    let batchStart = 0;
    let at = 0;
    for (;;) {
      if (!c.started) {
        if (c.buf.length - at < 8) break;
        const len = c.buf.readInt32BE(at);
        if (c.buf.length - at < len) break;
        const code = c.buf.readInt32BE(at + 4);
        at += len;
        batchStart = at;
        if (code === SSL_REQUEST) {
          c.socket.write('N');
          continue;
        }
        if (code === CANCEL_REQUEST) {
          c.socket.destroy();
          return;
        }
        c.started = true;
        this.enqueue(c, c.buf.subarray(at - len, at));
        continue;
      }
      if (c.buf.length - at < 5) break;
      const type = String.fromCharCode(c.buf[at]);
      const len = 1 + c.buf.readInt32BE(at + 1);
      if (c.buf.length - at < len) break;
      at += len;
      if (type === 'X') {
        c.socket.end();
        return;
      }
      if (BATCH_END.has(type)) {
        this.enqueue(c, c.buf.subarray(batchStart, at));
        batchStart = at;
      }
    }
    c.buf = Buffer.from(c.buf.subarray(batchStart));
  }

  private enqueue(c: Conn, batch: Buffer): void {
    c.pending.push(Buffer.from(batch));
    void this.pump();
  }

  /**
   * Whose batch runs next. Inside a transaction, its owner's. Otherwise round robin (the connection that ran goes to
   * the back), except that a batch that is not a transaction start (an autocommit statement: a webhook's receipt
   * INSERT, a poll, an ack) goes before batches that would open a transaction — they hold the one backend for
   * several round trips — up to QUICK_RUN in a row, so transactions are never starved.
   */
  private next(): Conn | undefined {
    if (this.owner) return this.owner.pending.length ? this.owner : undefined;
    let opener: Conn | undefined;
    for (const c of this.conns) {
      if (!c.pending.length) continue;
      if (!opensTransaction(c.pending[0])) {
        if (!opener || this.quickRun < QUICK_RUN) {
          this.quickRun = opener ? this.quickRun + 1 : 0;
          return c;
        }
        break;
      }
      opener ??= c;
      if (this.quickRun >= QUICK_RUN) break;
    }
    this.quickRun = 0;
    return opener;
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let c = this.next(); c; c = this.next()) {
        const raw = c.pending.shift()!;
        // move this connection to the back, so every client gets its turn
        this.conns.delete(c);
        if (!c.closed) this.conns.add(c);
        const greeting = !c.greeted;
        c.greeted = true;
        const r = this.statements && !greeting ? this.statements.rewrite(c, raw) : null;
        const errors = r?.created.length ? new ErrorScan() : null;
        if (r?.parseAnswered && !c.closed) c.socket.write(parseCompleteMessage);
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(new Uint8Array(r?.batch ?? raw), {
            syncToFs: this.opts.syncToFs ?? true,
            onRawData: (out) => {
              errors?.feed(out);
              if (!c.closed) c.socket.write(Buffer.from(out));
            },
          }),
        ).catch((err) => {
          c.socket.destroy(err as Error);
        });
        if (errors?.sawError) this.statements!.failed(r!.created);
        this.owner = this.db.isInTransaction() ? c : null;
        if (this.owner?.closed) await this.rollback();
        if (!this.owner) await this.closeForgotten();
      }
    } finally {
      this.busy = false;
    }
  }

  /** Statements the cache no longer keeps are closed between transactions (their output goes nowhere). */
  private async closeForgotten(): Promise<void> {
    const closes = this.statements?.takeCloses();
    if (!closes) return;
    await this.db
      .runExclusive(() => this.db.execProtocolRawStream(new Uint8Array(closes), { syncToFs: false, onRawData: () => undefined }))
      .catch(() => undefined);
  }

  private async rollback(): Promise<void> {
    await this.db.exec('ROLLBACK').catch(() => undefined); // exec takes PGlite's query lock itself
    this.owner = null;
  }

  private async drop(c: Conn): Promise<void> {
    c.closed = true;
    c.pending = [];
    this.conns.delete(c);
    if (this.owner === c && !this.busy) {
      await this.rollback();
      void this.pump();
    }
  }
}
