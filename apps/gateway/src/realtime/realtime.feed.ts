import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { canSeeConversation, ConversationAssignedV1, ConversationPresenceV1, ConversationWorkChangedV1, GetWorkV1, type EventContract, type PayloadOf } from '@app/contracts';
import { Bus, streamFeedOf, type StreamEntry, type StreamFeed, type StreamTail } from '@app/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { CLIENT_EVENTS } from './realtime.events';

interface Scope {
  teamId: string | null;
  ownerId: string | null;
}

/** An event ready for clients: who may see it is decided by `visibleTo`. */
export interface FeedEvent {
  seq: number;
  event: string;
  conversationId: string | null;
  data: unknown;
  /** Scopes of the conversation; a client that may see any of them gets the event (an assignment goes to both sides). */
  scopes: Scope[];
}

export type FeedListener = (e: FeedEvent) => void;
export type Presence = PayloadOf<typeof ConversationPresenceV1>;

const SYSTEM = { type: 'system' as const, id: 'gateway-realtime', name: 'gateway', role: 'admin' as const, teamIds: [] };
const SCOPE_TTL_MS = 60_000;

/**
 * Reads INBOX_EVENTS through the bus's stream feed (over NATS: an ordered JetStream consumer per gateway replica, so
 * every replica sees every event, from "now"; embedded: the event log), works out each conversation's team and owner (from the events themselves, else from
 * routing, cached) and hands events to the hub. `replay` reads a past range for clients catching up.
 */
@Injectable()
export class RealtimeFeed implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('RealtimeFeed');
  private feed?: StreamFeed;
  private live?: StreamTail;
  private stopPresence?: () => void;
  private readonly listeners = new Set<FeedListener>();
  private readonly presenceListeners = new Set<(p: Presence) => void>();
  private readonly scopes = new Map<string, { scope: Scope; at: number }>();
  private readonly bySubject = new Map<string, { contract: EventContract; event: string }>();
  /** The last stream sequence handed to listeners (or the stream's last at start). */
  lastSeq = 0;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.feed = streamFeedOf(this.bus);
    for (const c of CLIENT_EVENTS) this.bySubject.set(c.contract.subject, c);
    this.stopPresence = await this.feed.onBroadcast(ConversationPresenceV1, (raw) => {
      const p = ConversationPresenceV1.schema.safeParse(raw);
      if (p.success) for (const l of this.presenceListeners) l(p.data);
    });
    this.lastSeq = await this.feed.lastSequence('INBOX_EVENTS');
    this.live = await this.feed.tail('INBOX_EVENTS', this.lastSeq, async (m) => {
      const e = await this.toFeedEvent(m, true).catch((err) => {
        this.log.warn(`real-time event ${m.seq} skipped: ${(err as Error).message}`);
        return null;
      });
      this.lastSeq = m.seq;
      if (e) for (const l of this.listeners) l(e);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopPresence?.();
    await this.live?.stop().catch(() => undefined);
  }

  /** Presence goes to every gateway replica (this one included), never stored. */
  publishPresence(p: Presence): void {
    this.feed?.broadcast(ConversationPresenceV1, p);
  }

  onPresence(l: (p: Presence) => void): () => void {
    this.presenceListeners.add(l);
    return () => this.presenceListeners.delete(l);
  }

  subscribe(l: FeedListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Events with since < seq ≤ upTo, oldest first. */
  async replay(since: number, upTo: number, each: (e: FeedEvent) => void): Promise<void> {
    if (upTo <= since || !this.feed) return;
    await this.feed.readRange('INBOX_EVENTS', since, upTo, async (m) => {
      const e = await this.toFeedEvent(m, false).catch(() => null);
      if (e) each(e);
    });
  }

  /**
   * `live`: the newest event, which may update the scope cache. A replayed (old) event never does — it would put a
   * stale team/owner in the cache and route live events to the wrong people.
   */
  private async toFeedEvent(m: StreamEntry, live: boolean): Promise<FeedEvent | null> {
    const def = this.bySubject.get(m.subject);
    if (!def) return null;
    const data = def.contract.schema.parse(m.data);
    const conversationId: string | null =
      def.contract === ConversationWorkChangedV1
        ? (data as PayloadOf<typeof ConversationWorkChangedV1>).state.conversationId
        : ((data as { conversationId?: string | null }).conversationId ?? null);
    const scopes: Scope[] = [];
    if (def.contract === ConversationWorkChangedV1) {
      // the event carries the state it describes: scope it by that, and learn it only when it is the newest
      const s = (data as PayloadOf<typeof ConversationWorkChangedV1>).state;
      const scope = { teamId: s.teamId, ownerId: s.ownerId };
      if (live) this.scopes.set(s.conversationId, { scope, at: Date.now() });
      scopes.push(scope);
    } else if (def.contract === ConversationAssignedV1) {
      const a = data as PayloadOf<typeof ConversationAssignedV1>;
      scopes.push({ teamId: a.teamId, ownerId: a.ownerId }, { teamId: a.previousTeamId, ownerId: a.previousOwnerId });
    } else if (conversationId) {
      const s = await this.scopeOf(conversationId);
      if (s) scopes.push(s);
    }
    if (!conversationId && def.contract !== ConversationAssignedV1) return null; // not tied to a conversation: not for clients
    return { seq: m.seq, event: def.event, conversationId, data, scopes };
  }

  async scopeOf(conversationId: string): Promise<Scope | null> {
    const hit = this.scopes.get(conversationId);
    if (hit && Date.now() - hit.at < SCOPE_TTL_MS) return hit.scope;
    const w = await this.bus.request(GetWorkV1, { actor: SYSTEM, conversationId }).catch(() => null);
    if (!w) return null; // unknown to routing (yet): shown to admins only
    const scope = { teamId: w.teamId, ownerId: w.ownerId };
    this.scopes.set(conversationId, { scope, at: Date.now() });
    if (this.scopes.size > 50_000) this.scopes.delete(this.scopes.keys().next().value!);
    return scope;
  }
}

/** A principal may see an event when it may see any of its scopes (admins see all, also unscoped events). */
export function visible(p: { id: string; role: string; teamIds: string[] }, e: FeedEvent): boolean {
  if (p.role === 'admin') return true;
  return e.scopes.some((s) => canSeeConversation(p as never, s));
}
