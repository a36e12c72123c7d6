import { useCallback, useEffect, useRef, useState } from 'react';
import { isTyping } from '../lib/keys';
import { api, ApiError, qs } from '../lib/api';
import { conversationOf } from '../lib/realtime';
import { useApp } from '../lib/context';
import { navigate } from '../lib/router';
import type { Conversation, Page } from '../lib/types';
import { ConversationList } from './ConversationList';
import { ConversationView } from './ConversationView';
import { DEFAULT_FILTERS, matches, upsert, type Filters, type View } from './listing';

const SEEN_KEY = (userId: string) => `switchboard.seen.${userId}`;

/** Three panes: the list (views, filters, search, live), the conversation, its details. */
export function Inbox({ path }: { path: string }) {
  const { me, rt } = useApp();
  const selectedId = /^\/c\/([0-9a-f-]{36})$/i.exec(path)?.[1] ?? null;
  const [filters, setFilters] = useState<Filters>(() => ({ ...DEFAULT_FILTERS, view: me.role === 'agent' ? 'mine' : 'unassigned' }));
  const [items, setItems] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [seen, setSeen] = useState<Record<string, string>>(() => {
    try {
      return JSON.parse(localStorage.getItem(SEEN_KEY(me.id)) ?? '{}');
    } catch {
      return {};
    }
  });
  const searchRef = useRef<HTMLInputElement>(null);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const loadSeq = useRef(0);

  const query = (f: Filters, c: string | null) =>
    `/api/v1/conversations${qs({ view: f.view, status: f.status, teamId: f.teamId, label: f.label, sla: f.sla, q: f.q.trim().length >= 2 ? f.q.trim() : undefined, cursor: c, limit: 50 })}`;

  const load = useCallback(async () => {
    const seq = ++loadSeq.current;
    setLoading(true);
    setError(null);
    try {
      const page = await api<Page<Conversation>>(query(filtersRef.current, null));
      if (seq !== loadSeq.current) return;
      setItems(page.items);
      setCursor(page.nextCursor);
    } catch (e) {
      if (seq === loadSeq.current) {
        setError(e instanceof Error ? e.message : String(e));
        // a server or network hiccup: try again by itself (a newer load cancels this one)
        if (!(e instanceof ApiError && e.status < 500)) setTimeout(() => seq === loadSeq.current && void load(), 5000);
      }
    } finally {
      if (seq === loadSeq.current) setLoading(false);
    }
  }, [me]);

  const more = useCallback(async () => {
    if (!cursor || loading) return;
    const c = cursor;
    setCursor(null);
    try {
      const page = await api<Page<Conversation>>(query(filtersRef.current, c));
      setItems((cur) => page.items.reduce((acc, x) => upsert(acc, x), cur));
      setCursor(page.nextCursor);
    } catch (e) {
      setCursor(c);
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [cursor, loading]);

  // reload on filter change (search debounced)
  useEffect(() => {
    const t = setTimeout(() => void load(), filters.q ? 250 : 0);
    return () => clearTimeout(t);
  }, [filters, load]);

  // live: refetch each conversation an event is about (batched), then keep, add or drop it for this view
  const refresh = useCallback(
    async (id: string) => {
      try {
        const c = await api<Conversation>(`/api/v1/conversations/${id}`);
        const f = filtersRef.current;
        const known = itemsRef.current.some((x) => x.id === id);
        // a search result list only updates rows it already has
        const keep = matches(me, f, c) && (known || f.q.trim().length < 2);
        setItems((cur) => (keep ? upsert(cur, c) : cur.filter((x) => x.id !== id)));
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setItems((cur) => cur.filter((x) => x.id !== id));
      }
    },
    [me],
  );
  useEffect(() => {
    const pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = rt.on((f) => {
      if (f.type === 'replayed') {
        void load(); // after a reconnect, make sure the list is whole
        return;
      }
      const id = conversationOf(f);
      if (!id) return;
      pending.add(id);
      if (!timer)
        timer = setTimeout(() => {
          timer = null;
          const ids = [...pending];
          pending.clear();
          for (const x of ids) void refresh(x);
        }, 120);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [rt, refresh, load]);

  const markSeen = useCallback(
    (id: string) => {
      setSeen((s) => {
        const next = { ...s, [id]: new Date().toISOString() };
        const keys = Object.keys(next);
        if (keys.length > 2000) for (const k of keys.slice(0, keys.length - 2000)) delete next[k];
        localStorage.setItem(SEEN_KEY(me.id), JSON.stringify(next));
        return next;
      });
    },
    [me.id],
  );
  useEffect(() => {
    if (selectedId) markSeen(selectedId);
  }, [selectedId, items.find((c) => c.id === selectedId)?.lastInboundAt, markSeen]);

  // keyboard: j/k move, / search, 1-4 views
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e) || document.querySelector('.modal')) return;
      const list = itemsRef.current;
      const i = list.findIndex((c) => c.id === selectedId);
      if (e.key === 'j' || e.key === 'k') {
        const next = list[e.key === 'j' ? Math.min(list.length - 1, i + 1) : Math.max(0, i - 1)];
        if (next) navigate(`/c/${next.id}`);
      } else if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (['1', '2', '3', '4'].includes(e.key)) {
        const v = (['mine', 'unassigned', 'team', 'all'] as View[])[Number(e.key) - 1];
        setFilters((f) => ({ ...f, view: v }));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selectedId]);

  return (
    <div className="inbox">
      <ConversationList
        items={items}
        loading={loading}
        error={error}
        hasMore={cursor !== null}
        filters={filters}
        selectedId={selectedId}
        seen={seen}
        searchRef={searchRef}
        onFilters={(f) => setFilters((cur) => ({ ...cur, ...f }))}
        onSelect={(id) => navigate(`/c/${id}`)}
        onMore={more}
        onRetry={load}
      />
      {selectedId ? (
        <ConversationView key={selectedId} id={selectedId} onChanged={(c) => setItems((cur) => (cur.some((x) => x.id === c.id) ? upsert(cur, c) : cur))} />
      ) : (
        <section className="pane conv-pane empty-state">
          <p className="muted">Pick a conversation on the left. Press <kbd>?</kbd> for keyboard shortcuts.</p>
        </section>
      )}
    </div>
  );
}
