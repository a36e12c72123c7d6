import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { AppContext, type AppCtx } from './lib/context';
import type { Realtime } from './lib/realtime';
import type { Conversation, Me, User } from './lib/types';

export const ME: Me = { kind: 'user', id: 'u-ana', name: 'Ana', email: 'ana@x.test', role: 'agent', teamIds: ['t-sales'], scopes: ['conversations:read', 'conversations:write', 'messages:send'] };
export const MANAGER: Me = { ...ME, id: 'u-mara', name: 'Mara', role: 'manager', scopes: [...ME.scopes, 'audit:read'] };

export function conversation(over: Partial<Conversation> = {}): Conversation {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    version: 3,
    status: 'open',
    snoozeUntil: null,
    priority: 'normal',
    labels: [],
    owner: { id: ME.id, name: 'Ana' },
    team: { id: 't-sales', name: 'Sales' },
    phoneNumberId: '106540352242922',
    contact: { id: 'c1', name: 'Carla', waId: '15550001234', userId: null },
    lastMessageAt: new Date().toISOString(),
    lastInboundAt: new Date().toISOString(),
    lastMessageText: 'Hello',
    messageCount: 1,
    window: { open: true, endsAt: new Date(Date.now() + 20 * 3600_000).toISOString() },
    openedAt: new Date().toISOString(),
    resolvedAt: null,
    updatedAt: new Date().toISOString(),
    ...over,
  };
}

export function fakeRealtime() {
  const presence: [string, string][] = [];
  const rt = { setPresence: (id: string, s: string) => presence.push([id, s]), on: () => () => undefined, onState: () => () => undefined } as unknown as Realtime;
  return { rt, presence };
}

export function renderWithApp(ui: ReactNode, opts: { me?: Me; users?: User[] } = {}) {
  const { rt, presence } = fakeRealtime();
  const toasts: string[] = [];
  const ctx: AppCtx = {
    me: opts.me ?? ME,
    rt,
    dir: { users: new Map((opts.users ?? []).map((u) => [u.id, u])), teams: new Map(), labels: [] },
    reloadDirectory: () => undefined,
    toast: (m) => toasts.push(m),
  };
  return { ...render(<AppContext.Provider value={ctx}>{ui}</AppContext.Provider>), presence, toasts };
}

/** A fetch stub: answers by handler, records every call. */
export function stubFetch(handler: (url: string, init: RequestInit) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>) {
  const calls: { url: string; init: RequestInit }[] = [];
  globalThis.fetch = (async (url: string, init: RequestInit = {}) => {
    calls.push({ url, init });
    const r = await handler(url, init);
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return calls;
}
