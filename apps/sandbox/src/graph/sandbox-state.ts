import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import { GraphErrors, type GraphError } from './graph-errors';
import { seedTemplates, type SandboxTemplate } from './templates';

export interface SentMessage {
  waMessageId: string;
  phoneNumberId: string;
  to: string;
  type: string;
  acceptedAt: number;
  /** The Graph body as received (sandbox only; shown on the customer page). */
  body: Record<string, unknown>;
}

export interface StoredMedia {
  id: string;
  phoneNumberId: string;
  mimeType: string;
  sha256: string;
  data: Buffer;
  filename: string | null;
}

/** What the next send gets instead of normal handling. Numbers are Graph error codes. */
export type Fault = '5xx' | 'timeout' | number;
export interface FaultConfig {
  /** Share (0..1) of sends answered with each fault, at random. */
  share: Partial<Record<'5xx' | 'timeout' | '130429' | '131056', number>>;
  /** Faults applied in order to the next matching sends (optionally only sends to `to`). */
  script: { to?: string; fault: Fault }[];
}

export const newWamid = () => `wamid.HBgL${randomBytes(24).toString('base64url')}`;

/**
 * In-memory state of the fake Cloud API: accepted messages (the inspection log), media, templates,
 * per-number token buckets (throughput), per-pair last send (131056), fault injection.
 */
@Injectable()
export class SandboxState {
  readonly templates: SandboxTemplate[] = seedTemplates();
  readonly media = new Map<string, StoredMedia>();
  private sent: SentMessage[] = [];
  /** Mark-as-read (and typing indicator) calls, newest last: what the customer's phone would show. */
  private reads: { phoneNumberId: string; messageId: string; typing: boolean; at: number }[] = [];
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly pairs = new Map<string, number>();
  /** Errors the sandbox's own rules produced (validation, limits), by code. */
  readonly rejected = new Map<number, number>();
  /** Errors answered because of fault injection, by code. */
  readonly injected = new Map<number, number>();
  faults: FaultConfig = { share: {}, script: [] };

  constructor(@Inject(SANDBOX_CONFIG) readonly cfg: SandboxConfig) {}

  knownNumber(id: string): boolean {
    if (!/^\d{1,32}$/.test(id)) return false;
    return this.cfg.SANDBOX_PHONE_NUMBER_IDS.length === 0 || this.cfg.SANDBOX_PHONE_NUMBER_IDS.includes(id);
  }

  findTemplate = (name: string, language: string) => this.templates.find((t) => t.name === name && t.language === language);

  /** Pick the fault for this send, if any (script first, then random shares). */
  takeFault(to: string): Fault | null {
    const i = this.faults.script.findIndex((f) => !f.to || f.to === to);
    if (i >= 0) return this.faults.script.splice(i, 1)[0].fault;
    for (const [name, share] of Object.entries(this.faults.share)) {
      if (share && Math.random() < share) return name === '5xx' || name === 'timeout' ? name : Number(name);
    }
    return null;
  }

  /** Throughput (token bucket of `rate` tokens refilled at `rate`/s) and the pair limit; consumes on success. */
  admit(phoneNumberId: string, to: string, now = Date.now()): GraphError | null {
    const rate = this.cfg.SANDBOX_RATE_PER_SECOND;
    const b = this.buckets.get(phoneNumberId) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(phoneNumberId, b);
    if (b.tokens < 1) return this.reject(GraphErrors.rateLimit());
    const pairKey = `${phoneNumberId}|${to}`;
    const last = this.pairs.get(pairKey);
    if (this.cfg.SANDBOX_PAIR_INTERVAL_MS > 0 && last !== undefined && now - last < this.cfg.SANDBOX_PAIR_INTERVAL_MS)
      return this.reject(GraphErrors.pairRateLimit());
    b.tokens -= 1;
    this.pairs.set(pairKey, now);
    return null;
  }

  reject(err: GraphError): GraphError {
    this.rejected.set(err.code, (this.rejected.get(err.code) ?? 0) + 1);
    return err;
  }

  inject(err: GraphError): GraphError {
    this.injected.set(err.code, (this.injected.get(err.code) ?? 0) + 1);
    return err;
  }

  record(m: Omit<SentMessage, 'waMessageId' | 'acceptedAt'>): SentMessage {
    const entry = { ...m, waMessageId: newWamid(), acceptedAt: Date.now() };
    this.sent.push(entry);
    if (this.sent.length > 100_000) this.sent = this.sent.slice(-50_000);
    return entry;
  }

  recordRead(phoneNumberId: string, messageId: string, typing: boolean): void {
    this.reads.push({ phoneNumberId, messageId, typing, at: Date.now() });
    if (this.reads.length > 10_000) this.reads.shift();
  }

  listReads(phoneNumberId?: string) {
    return this.reads.filter((r) => !phoneNumberId || r.phoneNumberId === phoneNumberId);
  }

  listSent(filter: { phoneNumberId?: string; to?: string }): SentMessage[] {
    return this.sent.filter((m) => (!filter.phoneNumberId || m.phoneNumberId === filter.phoneNumberId) && (!filter.to || m.to === filter.to));
  }

  storeMedia(phoneNumberId: string, data: Buffer, mimeType: string, filename: string | null): StoredMedia {
    const id = String(BigInt('0x' + randomBytes(7).toString('hex')) + 1_000_000_000_000_000n);
    const m = { id, phoneNumberId, mimeType, filename, data, sha256: createHash('sha256').update(data).digest('hex') };
    this.media.set(id, m);
    return m;
  }

  reset(): void {
    this.sent = [];
    this.reads = [];
    this.buckets.clear();
    this.pairs.clear();
    this.rejected.clear();
    this.injected.clear();
    this.faults = { share: {}, script: [] };
  }
}
