import { useEffect, useRef } from 'react';
import { TeamOptions } from '../lib/bits';
import { useApp, useNow } from '../lib/context';
import { contactName, countdown, since, timeOf } from '../lib/format';
import { botName, isManager } from '../lib/permissions';
import { WORK_STATUSES, type Conversation } from '../lib/types';
import { DEFAULT_FILTERS, isUnread, SLA_LABEL, slaSummary, type Filters, type View } from './listing';

const VIEWS: { id: View; label: string }[] = [
  { id: 'mine', label: 'Mine' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'team', label: 'My teams' },
  { id: 'all', label: 'All' },
];

export function ConversationList(props: {
  items: Conversation[];
  loading: boolean;
  error: string | null;
  hasMore: boolean;
  filters: Filters;
  selectedId: string | null;
  seen: Record<string, string>;
  searchRef: React.RefObject<HTMLInputElement | null>;
  onFilters(f: Partial<Filters>): void;
  onSelect(id: string): void;
  onMore(): void;
  onRetry(): void;
}) {
  const { me, dir } = useApp();
  const now = useNow(15_000);
  const sentinel = useRef<HTMLLIElement>(null);
  const { items, filters: f } = props;
  const views = VIEWS.filter((v) => v.id !== 'all' || isManager(me));
  const anySla = items.some((c) => c.sla);

  // infinite scroll: load the next page when the end of the list comes into view
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !props.hasMore || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && props.onMore());
    io.observe(el);
    return () => io.disconnect();
  }, [props.hasMore, props.onMore, items.length]);

  return (
    <section className="pane list-pane" aria-label="Conversations">
      <div className="tabs" role="tablist" aria-label="Views">
        {views.map((v, i) => (
          <button key={v.id} role="tab" aria-selected={f.view === v.id} className={f.view === v.id ? 'tab active' : 'tab'} onClick={() => props.onFilters({ view: v.id })} title={`${v.label} (${i + 1})`}>
            {v.label}
          </button>
        ))}
      </div>
      <div className="filters">
        <input
          ref={props.searchRef}
          type="search"
          placeholder="Search name, phone or message  ( / )"
          aria-label="Search conversations"
          defaultValue={f.q}
          onChange={(e) => props.onFilters({ q: e.target.value })}
        />
        <div className="row">
          <select aria-label="Status" value={f.status} onChange={(e) => props.onFilters({ status: e.target.value })}>
            <option value="">Any status</option>
            {WORK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s[0].toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
          <select aria-label="Team" value={f.teamId} onChange={(e) => props.onFilters({ teamId: e.target.value })}>
            <option value="">Any team</option>
            <TeamOptions />
          </select>
          <select aria-label="Label" value={f.label} onChange={(e) => props.onFilters({ label: e.target.value })}>
            <option value="">Any label</option>
            {dir.labels.map((l) => (
              <option key={l.id} value={l.name}>
                {l.name}
              </option>
            ))}
          </select>
          {(anySla || f.sla) && (
            <select aria-label="SLA" value={f.sla} onChange={(e) => props.onFilters({ sla: e.target.value })}>
              <option value="">Any SLA</option>
              <option value="due-soonest">SLA: due soonest</option>
              <option value="at-risk">SLA: at risk</option>
              <option value="breached">SLA: breached</option>
            </select>
          )}
        </div>
      </div>
      {props.error && (
        <div className="banner error" role="alert">
          {props.error} <button className="link" onClick={props.onRetry}>Retry</button>
        </div>
      )}
      <ul className="conv-list" aria-busy={props.loading}>
        {items.map((c) => {
          const unread = c.id !== props.selectedId && isUnread(c, props.seen);
          const sla = slaSummary(c);
          return (
            <li key={c.id}>
              <button
                className={`conv-item${c.id === props.selectedId ? ' selected' : ''}${unread ? ' unread' : ''}`}
                aria-current={c.id === props.selectedId ? 'true' : undefined}
                onClick={() => props.onSelect(c.id)}
                data-conversation-id={c.id}
              >
                <span className="conv-top">
                  {unread && <span className="dot" aria-label="unread" />}
                  <span className="conv-name">{contactName(c.contact)}</span>
                  <span className="conv-time" title={c.lastMessageAt ?? ''}>
                    {timeOf(c.lastMessageAt, now)}
                  </span>
                </span>
                <span className="conv-text">{c.lastMessageText ?? ''}</span>
                <span className="conv-meta">
                  {c.bot && !c.owner ? (
                    <span className="owner bot" title="A bot holds this conversation until it hands over">
                      Held by bot {botName(c.bot)}
                    </span>
                  ) : (
                    <span className={`owner ${c.owner ? '' : 'none'}`}>{c.owner ? c.owner.name : 'Unassigned'}</span>
                  )}
                  {c.team && <span className="chip">{c.team.name}</span>}
                  {c.status !== 'open' && <span className={`chip status-${c.status}`}>{c.status}</span>}
                  {c.priority !== 'normal' && <span className={`chip prio-${c.priority}`}>{c.priority}</span>}
                  {c.labels.slice(0, 2).map((l) => (
                    <span className="chip label" key={l}>
                      {l}
                    </span>
                  ))}
                  {sla && (
                    <span className={`chip sla sla-${sla.state}`} title={`${sla.clock} SLA`} data-sla={sla.state}>
                      {SLA_LABEL[sla.state]}
                      {sla.dueAt ? ` · ${countdown(sla.dueAt, now)}` : ''}
                    </span>
                  )}
                  {c.lastInboundAt && !c.owner && <span className="muted small">waiting {since(c.lastInboundAt, now)}</span>}
                </span>
              </button>
            </li>
          );
        })}
        {!props.loading && items.length === 0 && !props.error && <li className="empty muted">{isDefault(f) ? 'Nothing open is yours: new conversations wait in Unassigned.' : 'No conversations here.'}</li>}
        {props.loading && <li className="empty muted">Loading…</li>}
        {props.hasMore && <li ref={sentinel} className="empty"><button className="link" onClick={props.onMore}>Load more</button></li>}
      </ul>
    </section>
  );
}

/** The first screen (Mine, open, no filter): its empty state points a newcomer at Unassigned. */
const isDefault = (f: Filters) => (Object.keys(DEFAULT_FILTERS) as (keyof Filters)[]).every((k) => f[k] === DEFAULT_FILTERS[k]);
