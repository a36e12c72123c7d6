import * as http from 'node:http';

/** What one POST got: an HTTP status, 0 for a refused/broken connection, -1 for no answer within the timeout. */
export interface Answer {
  status: number;
  ms: number;
}

export interface OpenLoopOptions {
  /** New items started per second, on a fixed schedule whatever the answers take (open loop). */
  ratePerS: number;
  /**
   * Requests in flight at most. A fresh item due while the limit is reached is not sent at all (counted in
   * `skippedAtLimit`): the schedule never slips and no backlog builds up beyond the limit. Retries wait for a slot.
   */
  maxInFlight: number;
  /** Sends one item; resolves with its answer. */
  send: (item: number, attempt: number) => Promise<Answer>;
  /** Delay before the next attempt of an item that did not get a 200 (as Meta retries). */
  retryDelayMs?: (attempt: number) => number;
  /**
   * Attempts at most for an item answered with a 4xx other than 429 (a refusal such as a 401 will not turn into a
   * 200 by retrying): after that the item is given up and counted in `refused`, so `stop()` still returns.
   */
  maxAttemptsOn4xx?: number;
  /** The phase an answer is counted under (for accepted/s per phase). */
  phase: () => string;
}

interface Retry {
  item: number;
  attempt: number;
}

/**
 * An open-loop load: a fresh item is due every 1/rate s whatever earlier answers take, so a slow server does not
 * lower the offered rate (a closed loop of N clients offers at most N / latency). A schedule tick every
 * millisecond starts what is due, up to `maxInFlight` requests in flight; a fresh item due at the limit is
 * skipped and counted (the server is that far behind). Each sent item is retried until it gets a 200, before
 * any fresh item, except one still refused with a 4xx after `maxAttemptsOn4xx` attempts (counted in `refused`).
 */
export class OpenLoopLoad {
  private t0 = 0;
  private timer?: NodeJS.Timeout;
  private scheduled = 0;
  private sent = 0;
  private inFlight = 0;
  private readonly waiting: Retry[] = [];
  private retriesPending = 0;
  private stopped = false;
  private idle?: () => void;
  readonly answers: Record<string, number> = {};
  /** Items that got a 200, with the time of the 200 (ms since start) and its phase. */
  readonly accepted = new Map<number, { at: number; phase: string }>();
  /** Fresh items due while `maxInFlight` requests were in flight: not sent. */
  skippedAtLimit = 0;
  /** Items given up after `maxAttemptsOn4xx` attempts answered with a 4xx, by their last status. */
  readonly refused: Record<string, number> = {};
  maxWaiting = 0;
  maxInFlightSeen = 0;
  private readonly phaseTimes: { phase: string; from: number }[] = [];

  constructor(private readonly o: OpenLoopOptions) {}

  start(): void {
    this.t0 = Date.now();
    this.notePhase();
    this.timer = setInterval(() => this.tick(), 1);
  }

  /** Stops scheduling fresh items; resolves when every started item got a 200 or was refused (see `refused`). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.notePhase();
    this.phaseTimes.push({ phase: '(stopped)', from: Date.now() - this.t0 });
    if (this.inFlight === 0 && this.waiting.length === 0 && this.retriesPending === 0) return;
    await new Promise<void>((resolve) => (this.idle = resolve));
  }

  /** Fresh items due on the schedule so far. */
  get offered(): number {
    return this.scheduled;
  }

  /** Fresh items sent (items are numbered 0..sent-1). */
  get items(): number {
    return this.sent;
  }

  get elapsedS(): number {
    return (Date.now() - this.t0) / 1000;
  }

  private notePhase(): void {
    const phase = this.o.phase();
    if (this.phaseTimes.at(-1)?.phase !== phase) this.phaseTimes.push({ phase, from: Date.now() - this.t0 });
  }

  private tick(): void {
    this.notePhase();
    this.pump();
    const due = Math.floor(((Date.now() - this.t0) * this.o.ratePerS) / 1000);
    for (; this.scheduled < due; this.scheduled++) {
      if (this.inFlight < this.o.maxInFlight) this.fire({ item: this.sent++, attempt: 1 });
      else this.skippedAtLimit++;
    }
  }

  private pump(): void {
    while (this.inFlight < this.o.maxInFlight && this.waiting.length > 0) this.fire(this.waiting.shift()!);
    this.maxWaiting = Math.max(this.maxWaiting, this.waiting.length);
    if (this.stopped && this.idle && this.inFlight === 0 && this.waiting.length === 0 && this.retriesPending === 0) this.idle();
  }

  private fire(d: Retry): void {
    this.inFlight++;
    this.maxInFlightSeen = Math.max(this.maxInFlightSeen, this.inFlight);
    void this.o.send(d.item, d.attempt).then((a) => {
      this.inFlight--;
      const k = String(a.status);
      this.answers[k] = (this.answers[k] ?? 0) + 1;
      if (a.status === 200) this.accepted.set(d.item, { at: Date.now() - this.t0, phase: this.o.phase() });
      else if (a.status >= 400 && a.status < 500 && a.status !== 429 && d.attempt >= (this.o.maxAttemptsOn4xx ?? 3)) this.refused[k] = (this.refused[k] ?? 0) + 1;
      else {
        this.retriesPending++;
        setTimeout(() => {
          this.retriesPending--;
          this.waiting.push({ item: d.item, attempt: d.attempt + 1 });
          this.pump();
        }, (this.o.retryDelayMs ?? ((n) => Math.min(2000, 50 * n)))(d.attempt));
      }
      this.pump();
    });
  }

  /**
   * Accepted/s per phase (a phase is the time between two phase changes; a phase that
   * occurs more than once, e.g. after a restart, is summed).
   */
  perPhase(): { phase: string; seconds: number; accepted: number; acceptedPerS: number }[] {
    const spans = this.phaseTimes.map((p, i) => ({ phase: p.phase, from: p.from, to: this.phaseTimes[i + 1]?.from ?? p.from }));
    const out = new Map<string, { seconds: number; accepted: number }>();
    for (const s of spans) {
      if (s.phase === '(stopped)') continue;
      const e = out.get(s.phase) ?? { seconds: 0, accepted: 0 };
      e.seconds += (s.to - s.from) / 1000;
      out.set(s.phase, e);
    }
    for (const a of this.accepted.values()) {
      const e = out.get(a.phase);
      if (e) e.accepted++;
    }
    return [...out].map(([phase, e]) => ({
      phase,
      seconds: Math.round(e.seconds * 10) / 10,
      accepted: e.accepted,
      acceptedPerS: Math.round(e.accepted / Math.max(e.seconds, 0.001)),
    }));
  }
}

/** A keep-alive POST that never throws: status 0 for a connection error, -1 when no answer came in time. */
export function post(agent: http.Agent, port: number, path: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path, agent, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 }));
        res.on('error', () => resolve({ status: 0, ms: Date.now() - t0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: e.message === 'timeout' ? -1 : 0, ms: Date.now() - t0 }));
    req.end(body);
  });
}
