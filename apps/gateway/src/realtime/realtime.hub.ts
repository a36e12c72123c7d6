import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { canSeeConversation, PRESENCE_STATES } from '@app/contracts';
import { AuthService } from '../auth/auth.service';
import type { Principal } from '../auth/principal';
import { AgentPresenceReporter } from './agent-presence.reporter';
import { RealtimeFeed, visible, type FeedEvent, type Presence } from './realtime.feed';
import type { ServerFrame } from './realtime.events';

export const REALTIME_PATH = '/api/v1/realtime';
const REAUTH_MS = 30_000;

interface Client {
  id: string;
  ws: WebSocket;
  /** Conversations this client announced presence on (told 'left' when it goes). */
  presence: Map<string, { teamId: string | null; ownerId: string | null }>;
  token: string;
  principal: Principal;
  /** While catching up: live events past the replay range wait here. */
  queue: FeedEvent[] | null;
}

/** Bounds on what the gateway holds for one client (events while it catches up; unsent bytes). */
const MAX_PENDING_EVENTS = 10_000;
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

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
  private unsubscribePresence?: () => void;

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly feed: RealtimeFeed,
    private readonly agentPresence: AgentPresenceReporter,
  ) {}

  onApplicationBootstrap(): void {
    const server: Server = this.host.httpAdapter.getHttpServer();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== REALTIME_PATH) return; // not ours (another upgrade handler may take it)
      void this.accept(req, socket, head, url);
    });
    this.unsubscribe = this.feed.subscribe((e) => this.dispatch(e));
    this.unsubscribePresence = this.feed.onPresence((p) => this.dispatchPresence(p));
    this.timer = setInterval(() => void this.reauthenticate(), REAUTH_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribePresence?.();
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
      const client: Client = { id: randomUUID(), ws, token: token!, principal, queue: since !== null ? [] : null, presence: new Map() };
      this.clients.add(client);
      this.agentPresence.connected(client.id, principal);
      ws.on('close', () => this.gone(client));
      ws.on('error', () => this.gone(client));
      ws.on('message', (data) => void this.onMessage(client, data))
      const cursor = this.feed.lastSeq;
      this.send(client, { type: 'ready', cursor, user: { id: principal.id, role: principal.role } });
      if (since !== null) void this.catchUp(client, since, cursor);
    });
  }

  /**
   * Client frames: `{type:'presence', conversationId, state:'viewing'|'typing'|'left'}`. Accepted only for a
   * conversation the client may see; passed to everyone else who may see it, on every replica.
   */
  private async onMessage(c: Client, data: RawData): Promise<void> {
    let f: { type?: unknown; conversationId?: unknown; state?: unknown };
    try {
      f = JSON.parse(String(data));
    } catch {
      return this.send(c, { type: 'error', message: 'frames are JSON' });
    }
    this.agentPresence.active(c.id); // any frame from the person counts as activity (idle → away is routing's)
    if (f?.type === 'activity') return;
    if (f?.type !== 'presence') return this.send(c, { type: 'error', message: 'unknown frame type' });
    const id = typeof f.conversationId === 'string' && /^[0-9a-f-]{36}$/i.test(f.conversationId) ? f.conversationId : null;
    const state = PRESENCE_STATES.find((s) => s === f.state);
    if (!id || !state) return this.send(c, { type: 'error', message: 'presence needs conversationId (uuid) and state (viewing|typing|left)' });
    const scope = await this.feed.scopeOf(id);
    if (!scope || !canSeeConversation(c.principal, scope)) return this.send(c, { type: 'error', message: `conversation ${id} not found` });
    if (state === 'left') c.presence.delete(id);
    else c.presence.set(id, scope);
    this.announce(c, id, scope, state);
  }

  private announce(c: Client, conversationId: string, scope: { teamId: string | null; ownerId: string | null }, state: Presence['state']): void {
    this.feed.publishPresence({
      conversationId,
      ...scope,
      user: { id: c.principal.id, name: c.principal.name },
      state,
      at: new Date().toISOString(),
      origin: c.id,
    });
  }

  private gone(c: Client): void {
    if (!this.clients.delete(c)) return;
    this.agentPresence.disconnected(c.id);
    for (const [id, scope] of c.presence) this.announce(c, id, scope, 'left');
    c.presence.clear();
  }

  private dispatchPresence(p: Presence): void {
    for (const c of this.clients) {
      if (c.id === p.origin || !canSeeConversation(c.principal, p)) continue;
      this.send(c, { type: 'presence', conversationId: p.conversationId, user: p.user, state: p.state, at: p.at });
    }
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
      if (c.queue) {
        // catching up: live events wait, but not without bound (a client that never finishes is dropped)
        if (c.queue.length >= MAX_PENDING_EVENTS) this.drop(c, 'too many events while catching up; reconnect with ?since=');
        else c.queue.push(e);
      } else this.sendEvent(c, e);
    }
  }

  private async reauthenticate(): Promise<void> {
    for (const c of [...this.clients]) {
      const p = await this.auth.authenticate(c.token).catch(() => undefined);
      if (p === undefined) continue; // database hiccup: try again next round
      if (!p || !p.scopes.includes('conversations:read')) {
        c.ws.close(4401, 'session ended');
        this.gone(c);
      } else c.principal = p;
    }
  }

  /** A frame for one person only (their notices), on every socket they have open on this replica. */
  sendToUser(userId: string, f: ServerFrame): void {
    for (const c of this.clients) if (c.principal.id === userId) this.send(c, f);
  }

  /** A frame for admins (and API keys) and for the managers of any of these teams (the manager view). */
  sendToManagers(teamIds: string[], f: ServerFrame): void {
    for (const c of this.clients) {
      const p = c.principal;
      if (p.role === 'admin' || (p.role === 'manager' && p.teamIds.some((t) => teamIds.includes(t)))) this.send(c, f);
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
    if (c.ws.readyState !== WebSocket.OPEN) return;
    // a client that does not read its socket must not make the gateway buffer for it without bound
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) return this.drop(c, 'too slow; reconnect with ?since=');
    c.ws.send(JSON.stringify(f));
  }

  /** Closes a connection the gateway will not buffer for; the client reconnects and catches up by cursor. */
  private drop(c: Client, reason: string): void {
    this.log.warn(`closing a real-time connection: ${reason}`);
    c.ws.close(4408, reason.slice(0, 120));
    this.gone(c);
  }
}
