import { saveSession } from './api';
import { ACTIVITY_EVERY_MS, Realtime, type LiveState } from './realtime';

/** A stand-in for the browser's WebSocket: records URLs and sent frames, lets the test play the server. */
class FakeSocket {
  static all: FakeSocket[] = [];
  static readonly OPEN = 1;
  readyState = 0;
  sent: string[] = [];
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(d: string) {
    this.sent.push(d);
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  serverSends(f: object) {
    this.readyState = 1;
    this.onmessage?.({ data: JSON.stringify(f) });
  }
}

describe('Realtime (live connection)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    (globalThis as unknown as { WebSocket: unknown }).WebSocket = FakeSocket;
    saveSession({ accessToken: 'sba_a', refreshToken: 'sbr_a', expiresAt: Date.now() + 600_000 });
  });
  afterEach(() => vi.useRealTimers());

  it('reconnects after a drop with ?since=<last seq>, reports offline → catching-up → live, and re-announces presence', () => {
    const rt = new Realtime('ws://x');
    const states: LiveState[] = [];
    const events: number[] = [];
    rt.onState((s) => states.push(s));
    rt.on((f) => f.type === 'event' && events.push((f as { seq: number }).seq));
    rt.start();
    const first = FakeSocket.all[0];
    expect(first.url).toBe('ws://x/api/v1/realtime?access_token=sba_a');
    first.serverSends({ type: 'ready', cursor: 10 });
    rt.setPresence('c1', 'viewing');
    first.serverSends({ type: 'event', seq: 11, event: 'message.created', conversationId: 'c1', data: {} });
    first.serverSends({ type: 'event', seq: 12, event: 'message.created', conversationId: 'c1', data: {} });

    first.close(1006); // the connection drops
    expect(rt.state).toBe('offline');
    vi.advanceTimersByTime(600);
    const second = FakeSocket.all[1];
    expect(second.url).toContain('since=12');
    second.serverSends({ type: 'ready', cursor: 20 });
    expect(rt.state).toBe('catching-up');
    expect(second.sent.map((s) => JSON.parse(s))).toContainEqual({ type: 'presence', conversationId: 'c1', state: 'viewing' });
    second.serverSends({ type: 'event', seq: 13, event: 'message.created', conversationId: 'c1', data: {} });
    second.serverSends({ type: 'replayed', cursor: 20 });
    expect(rt.state).toBe('live');
    expect(events).toEqual([11, 12, 13]);
    expect(states).toEqual(['live', 'offline', 'catching-up', 'live']);
    rt.stop();
  });

  it('backs off between failed attempts, and "retry now" skips the wait', () => {
    const rt = new Realtime('ws://x');
    rt.start();
    FakeSocket.all[0].close(1006);
    vi.advanceTimersByTime(500);
    FakeSocket.all[1].close(1006);
    vi.advanceTimersByTime(900);
    expect(FakeSocket.all).toHaveLength(2); // second wait is 1 s
    vi.advanceTimersByTime(100);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2].close(1006);
    rt.reconnectNow();
    expect(FakeSocket.all).toHaveLength(4);
    rt.stop();
  });

  it('reports the person working (keys, clicks) at most once per interval, and nothing after stop', () => {
    const rt = new Realtime('ws://x');
    rt.start();
    const ws = FakeSocket.all[0];
    ws.serverSends({ type: 'ready', cursor: 1 });
    const activity = () => ws.sent.map((s) => JSON.parse(s)).filter((f) => f.type === 'activity').length;
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }));
    expect(activity()).toBe(1);
    document.dispatchEvent(new MouseEvent('pointerdown'));
    expect(activity()).toBe(1); // within the interval: not again
    vi.advanceTimersByTime(ACTIVITY_EVERY_MS);
    document.dispatchEvent(new MouseEvent('pointerdown'));
    expect(activity()).toBe(2);
    rt.stop();
    vi.advanceTimersByTime(ACTIVITY_EVERY_MS);
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'b' }));
    expect(activity()).toBe(2); // the page no longer reports once stopped
  });
});
