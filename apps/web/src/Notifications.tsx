import { useEffect, useState } from 'react';
import { api } from './lib/api';
import { useApp } from './lib/context';
import { navigate } from './lib/router';

interface Notice {
  id: string;
  kind?: string;
  title?: string;
  body?: string | null;
  text?: string;
  conversationId?: string | null;
  createdAt?: string;
  readAt?: string | null;
}

/**
 * In-app notification centre: shown when the gateway has `GET /api/v1/notifications` (SLA/notices issue), fed
 * live by `notice` frames; a title badge and, if allowed, browser notifications. Absent API: renders nothing.
 */
export function Notifications() {
  const { rt } = useApp();
  const [items, setItems] = useState<Notice[] | null>(null);
  const [open, setOpen] = useState(false);

  useEffect(() => {
    api<{ items: Notice[] }>('/api/v1/notifications')
      .then((r) => setItems(r.items ?? []))
      .catch(() => setItems(null));
    return rt.on((f) => {
      const g = f as unknown as { type: string; event?: string; notice?: Notice; data?: Notice };
      const notice = g.type === 'notice' ? (g.notice ?? g.data ?? null) : g.type === 'event' && String(g.event).startsWith('notice') ? (g.data ?? null) : null;
      if (!notice) return;
      setItems((cur) => [notice, ...(cur ?? []).filter((x) => x.id !== notice.id)].slice(0, 100));
      if ('Notification' in window && Notification.permission === 'granted' && document.hidden)
        new Notification(notice.title ?? 'Switchboard', { body: notice.body ?? notice.text ?? '' });
    });
  }, [rt]);

  const unread = (items ?? []).filter((n) => !n.readAt).length;
  useEffect(() => {
    document.title = unread ? `(${unread}) Switchboard` : 'Switchboard';
  }, [unread]);

  if (items === null) return null;
  return (
    <div className="notif">
      <button className="ghost" aria-expanded={open} aria-label={`Notifications, ${unread} unread`} onClick={() => setOpen((o) => !o)}>
        <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">
          <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
        </svg>
        {unread > 0 && <span className="badge">{unread}</span>}
      </button>
      {open && (
        <div className="notif-panel" role="region" aria-label="Notifications">
          {'Notification' in window && Notification.permission === 'default' && (
            <button className="link" onClick={() => void Notification.requestPermission()}>
              Allow browser notifications
            </button>
          )}
          {items.length === 0 ? (
            <p className="muted">Nothing new.</p>
          ) : (
            unread > 0 && (
              <button
                className="link"
                onClick={() => {
                  void api('/api/v1/notifications/read', { method: 'POST', body: { all: true } }).catch(() => undefined);
                  setItems((cur) => (cur ?? []).map((x) => ({ ...x, readAt: x.readAt ?? new Date().toISOString() })));
                }}
              >
                Mark all read
              </button>
            )
          )}
          <ul>
            {items.map((n) => (
              <li key={n.id} className={n.readAt ? '' : 'unread'}>
                <button
                  className="link"
                  onClick={() => {
                    setItems((cur) => (cur ?? []).map((x) => (x.id === n.id ? { ...x, readAt: new Date().toISOString() } : x)));
                    void api('/api/v1/notifications/read', { method: 'POST', body: { ids: [n.id] } }).catch(() => undefined);
                    if (n.conversationId) navigate(`/c/${n.conversationId}`);
                    setOpen(false);
                  }}
                >
                  <strong>{n.title ?? n.kind ?? 'Notice'}</strong> {n.body ?? n.text ?? ''}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
