import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Admin } from './admin/Admin';
import { Dashboard } from './dashboard/Dashboard';
import { Inbox } from './inbox/Inbox';
import { Login } from './Login';
import { api, ApiError, loadSession, logout, onSessionChange } from './lib/api';
import { AppContext, type AppCtx, type Directory } from './lib/context';
import { isManager } from './lib/permissions';
import { Realtime, type LiveState } from './lib/realtime';
import { navigate, usePath } from './lib/router';
import type { Label, Me, Page, Team, User } from './lib/types';
import { Shortcuts } from './inbox/Shortcuts';
import { Notifications } from './Notifications';
import { AgentStatus } from './AgentStatus';
import { isTyping } from './lib/keys';

export function App() {
  const [signedIn, setSignedIn] = useState(() => loadSession() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(
    () =>
      onSessionChange((s) => {
        if (!s) setSignedIn(false);
      }),
    [],
  );
  if (!signedIn)
    return (
      <Login
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  return <Shell onSignedOut={(why) => (setNotice(why), setSignedIn(false))} />;
}

const EMPTY_DIR: Directory = { users: new Map(), teams: new Map(), labels: [] };

function Shell({ onSignedOut }: { onSignedOut: (why: string | null) => void }) {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dir, setDir] = useState<Directory>(EMPTY_DIR);
  const [live, setLive] = useState<LiveState>('connecting');
  const [toasts, setToasts] = useState<{ id: number; message: string; kind: 'info' | 'error' }[]>([]);
  const [help, setHelp] = useState(false);
  const rt = useMemo(() => new Realtime(), []);
  const path = usePath();
  const toastId = useRef(0);

  const toast = useCallback((message: string, kind: 'info' | 'error' = 'info') => {
    const id = ++toastId.current;
    setToasts((t) => [...t.slice(-3), { id, message, kind }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000);
  }, []);

  const reloadDirectory = useCallback(() => {
    void Promise.all([
      api<{ items: User[] }>('/api/v1/users').catch(() => ({ items: [] as User[] })),
      api<{ items: Team[] }>('/api/v1/teams').catch(() => ({ items: [] as Team[] })),
      api<Page<Label> | { items: Label[] }>('/api/v1/labels').catch(() => ({ items: [] as Label[] })),
    ]).then(([u, t, l]) =>
      setDir({ users: new Map(u.items.map((x) => [x.id, x])), teams: new Map(t.items.map((x) => [x.id, x])), labels: l.items }),
    );
  }, []);

  useEffect(() => {
    api<Me>('/api/v1/me')
      .then(setMe)
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) onSignedOut('Your session has ended; please sign in again.');
        else setError(e instanceof Error ? e.message : String(e));
      });
    reloadDirectory();
    const off = rt.onState(setLive);
    rt.start();
    return () => {
      off();
      rt.stop();
    };
  }, [rt, reloadDirectory, onSignedOut]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e)) return;
      if (e.key === '?') {
        e.preventDefault();
        setHelp((h) => !h);
      } else if (e.key === 'Escape') setHelp(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (error)
    return (
      <main className="center">
        <p className="error" role="alert">
          Could not load your profile: {error}
        </p>
        <button onClick={() => location.reload()}>Retry</button>
      </main>
    );
  if (!me) return <main className="center muted" aria-busy="true">Loading…</main>;

  const ctx: AppCtx = { me, rt, dir, reloadDirectory, toast };
  const section = path.startsWith('/dashboard') ? 'dashboard' : path.startsWith('/admin') ? 'admin' : 'inbox';
  return (
    <AppContext.Provider value={ctx}>
      <div className="app">
        <header className="topbar">
          <span className="brand">
            <span className="logo" aria-hidden="true">☎</span> Switchboard
          </span>
          <nav aria-label="Sections">
            <a href="/" className={section === 'inbox' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/'))}>
              Inbox
            </a>
            {isManager(me) && (
              <a href="/dashboard" className={section === 'dashboard' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/dashboard'))}>
                Dashboard
              </a>
            )}
            {isManager(me) && (
              <a href="/admin" className={section === 'admin' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin'))}>
                Admin
              </a>
            )}
          </nav>
          <span className="spacer" />
          <span className={`live live-${live}`} role="status" aria-label={`Live updates: ${live}`}>
            ● {live === 'live' ? 'Live' : live === 'catching-up' ? 'Catching up…' : live === 'offline' ? 'Offline' : 'Connecting…'}
          </span>
          <AgentStatus />
          <Notifications />
          <button className="ghost" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
            ?
          </button>
          <span className="me" title={me.email ?? ''}>
            {me.name} <span className="muted">· {me.role}</span>
          </span>
          <button
            className="ghost"
            onClick={async () => {
              rt.stop();
              await logout();
              onSignedOut(null);
            }}
          >
            Sign out
          </button>
        </header>
        {live === 'offline' && (
          <div className="banner warn reconnect" role="alert">
            Live updates are disconnected. Reconnecting… what you miss meanwhile will be caught up.{' '}
            <button className="link" onClick={() => rt.reconnectNow()}>
              Retry now
            </button>
          </div>
        )}
        {section === 'inbox' && <Inbox path={path} />}
        {section === 'dashboard' && <Dashboard />}
        {section === 'admin' && <Admin path={path} />}
        {help && <Shortcuts onClose={() => setHelp(false)} />}
        <div className="toasts" aria-live="polite">
          {toasts.map((t) => (
            <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
              {t.message}
            </div>
          ))}
        </div>
      </div>
    </AppContext.Provider>
  );
}
