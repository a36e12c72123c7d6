/**
 * HTTP client for the gateway: opaque access + refresh tokens (kept in localStorage so a reload stays signed in),
 * one refresh at a time across tabs (a replayed refresh token revokes the session), errors as ApiError.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

const KEY = 'switchboard.session';
type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
  for (const l of listeners) l(s);
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

async function parseError(res: Response): Promise<ApiError> {
  let body: { message?: unknown; details?: Record<string, unknown> } = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const message = Array.isArray(body.message) ? body.message.join('; ') : typeof body.message === 'string' ? body.message : res.statusText || `HTTP ${res.status}`;
  return new ApiError(res.status, message, body.details);
}

function toSession(t: { accessToken: string; refreshToken: string; expiresIn: number }): Session {
  return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: Date.now() + t.expiresIn * 1000 };
}

export async function login(email: string, password: string): Promise<Session> {
  const res = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!res.ok) throw await parseError(res);
  const s = toSession(await res.json());
  saveSession(s);
  return s;
}

let refreshing: Promise<Session | null> | null = null;

/** Exchanges the refresh token once, even when many requests (or tabs) find the access token expired together. */
export function refreshSession(stale?: Session | null): Promise<Session | null> {
  if (!refreshing) {
    const run = async (): Promise<Session | null> => {
      const current = loadSession();
      if (!current) return null;
      // another tab already refreshed: use its tokens
      if (stale && current.accessToken !== stale.accessToken) return current;
      const res = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: current.refreshToken }) });
      if (res.status === 401) {
        saveSession(null);
        return null;
      }
      if (!res.ok) throw await parseError(res);
      const s = toSession(await res.json());
      saveSession(s);
      return s;
    };
    const locks = 'locks' in navigator ? navigator.locks : undefined;
    const p: Promise<Session | null> = (locks ? (locks.request('switchboard-refresh', run) as unknown as Promise<Session | null>) : run()).finally(() => {
      refreshing = null;
    });
    refreshing = p;
  }
  return refreshing!;
}

export async function logout(): Promise<void> {
  const s = loadSession();
  if (s) await fetch('/api/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${s.accessToken}` } }).catch(() => undefined);
  saveSession(null);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function send(path: string, s: Session | null, o: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (s) headers.authorization = `Bearer ${s.accessToken}`;
  // a FormData body (file upload) sets its own multipart content type with the boundary
  const form = typeof FormData !== 'undefined' && o.body instanceof FormData;
  if (o.body !== undefined && !form) headers['content-type'] = 'application/json';
  const body = o.body === undefined ? undefined : form ? (o.body as FormData) : JSON.stringify(o.body);
  // no-store: the client decides when to re-read; a revalidated cache entry could hide changes its ETag does not cover
  return fetch(path, { method: o.method ?? 'GET', headers, body, signal: o.signal, cache: 'no-store' });
}

/** Authenticated request; a 401 refreshes the session once and retries. */
export async function raw(path: string, o: RequestOptions = {}): Promise<Response> {
  let s = loadSession();
  let res = await send(path, s, o);
  if (res.status === 401 && s) {
    s = await refreshSession(s);
    if (!s) throw new ApiError(401, 'Your session has ended; please sign in again.');
    res = await send(path, s, o);
  }
  if (!res.ok) throw await parseError(res);
  return res;
}

export async function api<T>(path: string, o: RequestOptions = {}): Promise<T> {
  const res = await raw(path, o);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function qs(params: Record<string, string | number | undefined | null | false>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '' && v !== false) u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** A fresh Idempotency-Key (one per intended send; reused by every retry of that send). */
export function newKey(): string {
  return crypto.randomUUID();
}
