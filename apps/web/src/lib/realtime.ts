import { loadSession, refreshSession } from './api';

export type LiveState = 'connecting' | 'live' | 'offline' | 'catching-up';

export interface EventFrame {
  type: 'event';
  seq: number;
  event: string;
  conversationId: string | null;
  data: Record<string, unknown>;
}
export interface PresenceFrame {
  type: 'presence';
  conversationId: string;
  user: { id: string; name: string | null };
  state: 'viewing' | 'typing' | 'left';
  at: string;
}
/** The conversation a frame is about: events, and notices (SLA warnings, reminders…) that name one. */
export function conversationOf(f: Frame): string | null {
  if (f.type === 'event') return (f as EventFrame).conversationId;
  if (f.type === 'notice') return ((f as { notice?: { conversationId?: string | null } }).notice?.conversationId as string | null | undefined) ?? null;
  return null;
}

export type Frame = EventFrame | PresenceFrame | { type: 'ready'; cursor: number } | { type: 'replayed'; cursor: number } | { type: 'error'; message: string } | { type: string; [k: string]: unknown };

type Handler = (f: Frame) => void;

/** What counts as the person using the page, and how often at most it is reported. */
const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;
export const ACTIVITY_EVERY_MS = 30_000;

/**
 * The live connection (`/api/v1/realtime`). Reconnects with backoff and `?since=<last seq>` so nothing is missed
 * while it was down; a 4401 close (token expired or revoked) refreshes the session first. Presence announcements
 * are re-sent after a reconnect.
 */
export class Realtime {
  private ws: WebSocket | null = null;
  private cursor: number | null = null;
  private handlers = new Set<Handler>();
  private stateHandlers = new Set<(s: LiveState) => void>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private presence = new Map<string, 'viewing' | 'typing'>();
  private lastActivitySent = 0;
  state: LiveState = 'connecting';

  constructor(private readonly base: string = location.origin.replace(/^http/, 'ws')) {}

  start(): void {
    this.stopped = false;
    if (typeof document !== 'undefined') for (const e of ACTIVITY_EVENTS) document.addEventListener(e, this.onActivity, { passive: true, capture: true });
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (typeof document !== 'undefined') for (const e of ACTIVITY_EVENTS) document.removeEventListener(e, this.onActivity, { capture: true });
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = null;
  }

  on(h: Handler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  onState(h: (s: LiveState) => void): () => void {
    this.stateHandlers.add(h);
    return () => this.stateHandlers.delete(h);
  }

  /** For tests and the reconnect banner's "retry now". */
  reconnectNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.attempt = 0;
    this.ws?.close(4000, 'reconnect');
    if (!this.ws) this.open();
  }

  setPresence(conversationId: string, state: 'viewing' | 'typing' | 'left'): void {
    if (state === 'left') this.presence.delete(conversationId);
    else this.presence.set(conversationId, state);
    this.sendFrame({ type: 'presence', conversationId, state });
  }

  /**
   * The person is using the page (a key, a click, a scroll): tell the server at most once per ACTIVITY_EVERY_MS.
   * Routing turns an agent whose clients stay silent past its idle time `away` (and back `online` on activity),
   * so the frame must keep coming while someone works — and stop when they walk away.
   */
  private onActivity = (): void => this.noteActivity();

  noteActivity(now = Date.now()): void {
    if (this.ws?.readyState !== WebSocket.OPEN || now - this.lastActivitySent < ACTIVITY_EVERY_MS) return;
    this.lastActivitySent = now;
    this.sendFrame({ type: 'activity' });
  }

  private sendFrame(f: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(f));
  }

  private setState(s: LiveState): void {
    if (this.state === s) return;
    this.state = s;
    for (const h of this.stateHandlers) h(s);
  }

  private open(): void {
    const s = loadSession();
    if (!s || this.stopped) return;
    const params = new URLSearchParams({ access_token: s.accessToken });
    if (this.cursor !== null) params.set('since', String(this.cursor));
    const ws = new WebSocket(`${this.base}/api/v1/realtime?${params}`);
    this.ws = ws;
    ws.onmessage = (m) => {
      let f: Frame;
      try {
        f = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (f.type === 'ready') {
        this.attempt = 0;
        const catching = this.cursor !== null;
        if (!catching) this.cursor = (f as { cursor: number }).cursor;
        this.setState(catching ? 'catching-up' : 'live');
        for (const [id, st] of this.presence) this.sendFrame({ type: 'presence', conversationId: id, state: st });
      } else if (f.type === 'replayed') {
        this.setState('live');
      } else if (f.type === 'event') {
        const seq = (f as EventFrame).seq;
        if (this.cursor === null || seq > this.cursor) this.cursor = seq;
      }
      for (const h of this.handlers) {
        try {
          h(f); // one failing view must not keep the frame from the others
        } catch (err) {
          console.error('a live-update handler failed', err);
        }
      }
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.setState('offline');
      const delay = Math.min(10_000, 500 * 2 ** this.attempt++);
      this.timer = setTimeout(async () => {
        // 4401: the session ended or the token expired; a refused upgrade (1006) with an old token: refresh first
        if (e.code === 4401 || s.expiresAt - Date.now() < 60_000) await refreshSession(s).catch(() => null);
        this.open();
      }, e.code === 4000 ? 0 : delay);
    };
  }
}
