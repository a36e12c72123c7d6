import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ReportAgentClientsV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import type { Principal } from '../auth/principal';

/** Every connected client is reported this often (routing's disconnect timeout must be longer). */
export const PRESENCE_REPORT_MS = 15_000;
/** Activity is passed on at once when the last report of it is older than this (away → online quickly). */
const ACTIVITY_REPORT_MS = 5_000;

interface Entry {
  userId: string;
  lastActiveAt: number;
  reportedActiveAt: number;
}

/**
 * Tells routing about the people connected to this gateway replica: a client connecting or going away at once,
 * every connected client with its last activity every 15 s. Routing stores the times and applies the idle and
 * disconnect timeouts, so nothing here is authoritative: a replica that dies simply stops reporting.
 */
@Injectable()
export class AgentPresenceReporter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AgentPresence');
  private readonly clients = new Map<string, Entry>();
  private readonly pending = new Map<string, { userId: string; clientId: string; connected: boolean; lastActiveAt: string }>();
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;

  constructor(@Inject(Bus) private readonly bus: Bus) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      for (const [clientId, e] of this.clients) this.queue(clientId, e, true);
      void this.flush();
    }, PRESENCE_REPORT_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    for (const [clientId, e] of this.clients) this.queue(clientId, e, false);
    this.clients.clear();
    await this.flush();
  }

  connected(clientId: string, p: Principal): void {
    if (p.kind !== 'user' || p.role === 'viewer') return; // only people who can own conversations have a status
    const e = { userId: p.id, lastActiveAt: Date.now(), reportedActiveAt: Date.now() };
    this.clients.set(clientId, e);
    this.queue(clientId, e, true);
    this.flushSoon();
  }

  active(clientId: string): void {
    const e = this.clients.get(clientId);
    if (!e) return;
    e.lastActiveAt = Date.now();
    if (e.lastActiveAt - e.reportedActiveAt < ACTIVITY_REPORT_MS) return;
    e.reportedActiveAt = e.lastActiveAt;
    this.queue(clientId, e, true);
    this.flushSoon();
  }

  disconnected(clientId: string): void {
    const e = this.clients.get(clientId);
    if (!e) return;
    this.clients.delete(clientId);
    this.queue(clientId, e, false);
    this.flushSoon();
  }

  private queue(clientId: string, e: Entry, connected: boolean): void {
    this.pending.set(clientId, { userId: e.userId, clientId, connected, lastActiveAt: new Date(e.lastActiveAt).toISOString() });
  }

  private flushSoon(): void {
    this.soon ??= setTimeout(() => {
      this.soon = undefined;
      void this.flush();
    }, 100);
  }

  private async flush(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending.values()].slice(0, 5000);
    for (const c of batch) this.pending.delete(c.clientId);
    try {
      await this.bus.request(ReportAgentClientsV1, { clients: batch });
    } catch (err) {
      // routing down: the next round reports the connected clients again; a lost disconnect expires by timeout
      this.log.warn(`could not report ${batch.length} real-time client(s) to routing: ${(err as Error).message}`);
    }
  }
}
