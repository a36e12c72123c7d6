import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { AuthService } from '../auth/auth.service';
import type { Principal } from '../auth/principal';
import { RealtimeFeed, visible, type FeedEvent } from './realtime.feed';
import type { ServerFrame } from './realtime.events';

export const REALTIME_PATH = '/api/v1/realtime';
const REAUTH_MS = 30_000;

interface Client {
  ws: WebSocket;
  token: string;
  principal: Principal;
  /** While catching up: live events past the replay range wait here. */
  queue: FeedEvent[] | null;
}

/**
 * `GET /api/v1/realtime` (WebSocket). Authenticated with the access token or API key (`?access_token=` for
 * browsers, or the Authorization / X-Api-Key header); re-checked every 30 s, so logout, a disabled user or a
 * revoked key closes the socket (4401) and team changes apply. Each client gets only events about conversations
 * it may see. `?since=<seq>` first replays what was missed, then continues live, in order and without gaps.
 */
@Injectable()
export class RealtimeHub implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('RealtimeHub');
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Set<Client>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly feed: RealtimeFeed,
  ) {}

  onApplicationBootstrap(): void {
    const server: Server = this.host.httpAdapter.getHttpServer();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== REALTIME_PATH) return; // not ours (another upgrade handler may take it)
      void this.accept(req, socket, head, url);
    });
    this.unsubscribe = this.feed.subscribe((e) => this.dispatch(e));
    this.timer = setInterval(() => void this.reauthenticate(), REAUTH_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    this.wss.close();
  }

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const header = req.headers.authorization;
    const token =
      url.searchParams.get('access_token') ??
      (header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined) ??
      (req.headers['x-api-key'] as string | undefined);
    const principal = token ? await this.auth.authenticate(token).catch(() => null) : null;
    if (!principal || !principal.scopes.includes('conversations:read')) {
      socket.end(`HTTP/1.1 ${principal ? '403 Forbidden' : '401 Unauthorized'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const sinceRaw = url.searchParams.get('since');
    const since = sinceRaw !== null && /^\d{1,15}$/.test(sinceRaw) ? Number(sinceRaw) : null;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, token: token!, principal, queue: since !== null ? [] : null };
      this.clients.add(client);
      ws.on('close', () => this.clients.delete(client));
      ws.on('error', () => this.clients.delete(client));
      ws.on('message', () => undefined); // client frames are not used yet (presence is not built)
      const cursor = this.feed.lastSeq;
      this.send(client, { type: 'ready', cursor, user: { id: principal.id, role: principal.role } });
      if (since !== null) void this.catchUp(client, since, cursor);
    });
  }

  private async catchUp(c: Client, since: number, upTo: number): Promise<void> {
    try {
      await this.feed.replay(since, upTo, (e) => {
        if (visible(c.principal, e)) this.sendEvent(c, e);
      });
    } catch (err) {
      this.log.warn(`replay for a client failed: ${(err as Error).message}`);
      this.send(c, { type: 'error', message: 'could not replay missed events; reload' });
    }
    const queued = c.queue ?? [];
    c.queue = null;
    this.send(c, { type: 'replayed', cursor: upTo });
    for (const e of queued) if (e.seq > upTo) this.sendEvent(c, e);
  }

  private dispatch(e: FeedEvent): void {
    for (const c of this.clients) {
      if (!visible(c.principal, e)) continue;
      if (c.queue) c.queue.push(e);
      else this.sendEvent(c, e);
    }
  }

  private async reauthenticate(): Promise<void> {
    for (const c of [...this.clients]) {
      const p = await this.auth.authenticate(c.token).catch(() => undefined);
      if (p === undefined) continue; // database hiccup: try again next round
      if (!p || !p.scopes.includes('conversations:read')) {
        c.ws.close(4401, 'session ended');
        this.clients.delete(c);
      } else c.principal = p;
    }
  }

  /** For tests and operators: re-check every connection now. */
  recheckNow(): Promise<void> {
    return this.reauthenticate();
  }

  private sendEvent(c: Client, e: FeedEvent): void {
    this.send(c, { type: 'event', seq: e.seq, event: e.event, conversationId: e.conversationId, data: e.data });
  }

  private send(c: Client, f: ServerFrame): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(f));
  }
}
