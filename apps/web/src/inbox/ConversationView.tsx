import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, qs } from '../lib/api';
import { conversationOf } from '../lib/realtime';
import { useApp, useNow } from '../lib/context';
import { contactName, countdown, dateTime, since } from '../lib/format';
import { isTyping } from '../lib/keys';
import { navigate } from '../lib/router';
import { botName, canEditWork, composerMode, managesTeam } from '../lib/permissions';
import { PRIORITIES, WORK_STATUSES, type Conversation, type MessageView, type Page, type Timeline, type TimelineItem } from '../lib/types';
import { Composer, type ComposerHandle } from './Composer';
import { AssignDialog, HandoffDialog, TimeDialog } from './Dialogs';
import { SLA_LABEL, slaSummary } from './listing';
import { CsatDetails } from './CsatDetails';
import { TimelineList } from './Timeline';

interface Presence {
  name: string;
  state: 'viewing' | 'typing';
  at: number;
}

/** The middle and right panes: header with actions, timeline, composer; details. Live through the socket. */
export function ConversationView({ id, onChanged }: { id: string; onChanged(c: Conversation): void }) {
  const app = useApp();
  const { me, rt, dir, toast } = app;
  const [conv, setConv] = useState<Conversation | null>(null);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [older, setOlder] = useState<{ items: TimelineItem[]; cursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<'handoff' | 'assign' | 'snooze' | 'remind' | null>(null);
  const [presence, setPresence] = useState<Map<string, Presence>>(new Map());
  const composer = useRef<ComposerHandle>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const onChangedRef = useRef(onChanged);
  onChangedRef.current = onChanged;

  const reload = useCallback(async () => {
    try {
      const [c, t] = await Promise.all([api<Conversation>(`/api/v1/conversations/${id}`), api<Timeline>(`/api/v1/conversations/${id}/timeline?limit=100`)]);
      setConv(c);
      setTimeline(t);
      setError(null);
      onChangedRef.current(c);
    } catch (e) {
      const gone = e instanceof ApiError && (e.status === 404 || e.status === 403);
      setError(gone ? 'This conversation does not exist or you may not see it.' : `Could not load the conversation (${e instanceof Error ? e.message : e}); retrying…`);
      // a server or network hiccup: try again by itself
      if (!gone) retry.current = setTimeout(() => void reloadRef.current(), 3000);
    }
  }, [id]);
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const retry = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (retry.current && clearTimeout(retry.current)), []);

  useEffect(() => {
    void reload();
  }, [reload]);

  // live: any event about this conversation reloads it (batched); presence of others
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    rt.setPresence(id, 'viewing');
    const off = rt.on((f) => {
      if (f.type === 'replayed') void reload();
      if (conversationOf(f) === id && !timer)
        timer = setTimeout(() => {
          timer = null;
          void reload();
        }, 100);
      if (f.type === 'presence' && (f as { conversationId: string }).conversationId === id) {
        const p = f as unknown as { user: { id: string; name: string | null }; state: 'viewing' | 'typing' | 'left' };
        if (p.user.id === me.id) return;
        setPresence((cur) => {
          const next = new Map(cur);
          if (p.state === 'left') next.delete(p.user.id);
          else next.set(p.user.id, { name: p.user.name ?? 'Someone', state: p.state, at: Date.now() });
          return next;
        });
      }
    });
    // SLA clocks change without a conversation event (notices go to the owner only): a slow re-read keeps the badge true
    const poll = setInterval(() => !document.hidden && void reload(), 30_000);
    return () => {
      off();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      rt.setPresence(id, 'left');
    };
  }, [id, rt, reload, me.id]);

  // typing wears off if the other side goes quiet
  const now = useNow(1000);
  const others = [...presence.values()].map((p) => (p.state === 'typing' && now - p.at > 8000 ? { ...p, state: 'viewing' as const } : p));

  // keep the view at the newest message unless the user scrolled up
  useEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [timeline]);

  /** Runs a versioned action; a 409 is explained and the view reloaded. */
  const act = useCallback(
    async (what: string, path: string, body: Record<string, unknown>): Promise<boolean> => {
      if (!conv) return false;
      setBusy(true);
      try {
        await api(`/api/v1/conversations/${id}/${path}`, { method: 'POST', body: { ...body, version: conv.version } });
        await reload();
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) toast(`${what}: someone changed this conversation meanwhile (${e.message}). It has been reloaded; check and try again.`, 'error');
        else toast(`${what} failed: ${e instanceof Error ? e.message : e}`, 'error');
        await reload();
        return false;
      } finally {
        setBusy(false);
      }
    },
    [conv, id, reload, toast],
  );

  const claim = () => void act('Claim', 'claim', {});
  /**
   * A reminder for me on this conversation (sla service); it arrives as a notification. `nextDayAt` "HH:MM" is
   * tomorrow at that time in the team's time zone, resolved by the server (the answer names the zone).
   */
  const remind = async (when: { at: string } | { nextDayAt: string }): Promise<boolean> => {
    try {
      const r = await api<{ at: string; timeZone?: string }>(`/api/v1/conversations/${id}/reminders`, { method: 'POST', body: when });
      const zone = 'nextDayAt' in when && r.timeZone ? ` (${when.nextDayAt} in ${r.timeZone})` : '';
      toast(`Reminder set for ${dateTime(r.at)}${zone}.`);
      return true;
    } catch (e) {
      toast(`Reminder not set: ${e instanceof Error ? e.message : e}`, 'error');
      return false;
    }
  };
  const takeBack = () => void act('Take back', 'take-back', {});
  const takeover = () => {
    if (conv?.owner && confirm(`Take over from ${conv.owner.name}? They will no longer be able to reply.`)) void act('Take over', 'takeover', {});
  };
  const setStatus = (status: string, snoozeUntil?: string) => act('Status', 'status', snoozeUntil ? { status, snoozeUntil } : { status });

  // shortcuts on the open conversation
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e) || !conv || dialog || document.querySelector('.modal')) return;
      const m = composerMode(me, conv);
      const edit = canEditWork(me, conv);
      const k = e.key;
      if (k === 'r') (e.preventDefault(), composer.current?.focus(false));
      else if (k === 'n') (e.preventDefault(), composer.current?.focus(true));
      else if (k === 'c' && m.mode === 'claim') claim();
      else if (k === 't' && m.mode === 'takeover') takeover();
      else if (k === 'h' && edit) setDialog('handoff');
      else if (k === 'a' && managesTeam(me, conv.team?.id ?? null)) setDialog('assign');
      else if (k === 'e' && edit) void setStatus('resolved');
      else if (k === 'p' && edit) void setStatus('pending');
      else if (k === 's' && edit) setDialog('snooze');
      else if (k === 'm' && me.role !== 'viewer') setDialog('remind');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  async function loadOlder() {
    const cursor = older ? older.cursor : timeline?.olderCursor;
    if (!cursor) return;
    const page = await api<Page<MessageView>>(`/api/v1/conversations/${id}/messages${qs({ order: 'newest', cursor, limit: 100 })}`);
    const items = page.items.map((m) => ({ kind: 'message' as const, at: m.sentAt, message: m })).reverse();
    setOlder((o) => ({ items: [...items, ...(o?.items ?? [])], cursor: page.nextCursor }));
    stick.current = false;
  }

  if (error)
    return (
      <section className="pane conv-pane empty-state">
        <p className="error" role="alert">
          {error}
        </p>
        <button onClick={() => void reload()}>Retry</button>
      </section>
    );
  if (!conv || !timeline)
    return (
      <section className="pane conv-pane empty-state" aria-busy="true">
        <p className="muted">Loading conversation…</p>
      </section>
    );

  const mode = composerMode(me, conv);
  const edit = canEditWork(me, conv);
  const manager = managesTeam(me, conv.team?.id ?? null);
  const hasOlder = older ? older.cursor !== null : !!timeline.moreMessages;
  const items = [...(older?.items ?? []), ...timeline.items];

  return (
    <>
      <section className="pane conv-pane" aria-label={`Conversation with ${contactName(conv.contact)}`}>
        <header className="conv-head">
          <div>
            <h2>{contactName(conv.contact)}</h2>
            <p className="muted small">
              {conv.owner ? (
                <>
                  Owner: <strong className="owner-name">{conv.owner.name}</strong>
                </>
              ) : conv.bot ? (
                <strong className="bot-name">Held by bot {botName(conv.bot)}</strong>
              ) : (
                <strong>Unassigned</strong>
              )}
              {conv.team && <> · {conv.team.name}</>} · <span className={`status-${conv.status}`}>{conv.status}</span>
              {conv.status === 'snoozed' && conv.snoozeUntil && <> until {dateTime(conv.snoozeUntil)}</>}
            </p>
          </div>
          <div className="actions" role="toolbar" aria-label="Conversation actions">
            {mode.mode === 'claim' && (
              <button className="primary" onClick={claim} disabled={busy} title="Claim (c)">
                Claim
              </button>
            )}
            {mode.mode === 'takeback' && (
              <button className="primary" onClick={takeBack} disabled={busy} title="Take back from the bot">
                Take back
              </button>
            )}
            {mode.mode === 'takeover' && (
              <button onClick={takeover} disabled={busy} title="Take over (t)">
                Take over
              </button>
            )}
            {manager && (
              <button onClick={() => setDialog('assign')} disabled={busy} title="Assign (a)">
                Assign
              </button>
            )}
            {edit && (
              <button onClick={() => setDialog('handoff')} disabled={busy} title="Hand off (h)">
                Hand off
              </button>
            )}
            {edit && (
              <select
                aria-label="Status"
                value={conv.status}
                disabled={busy}
                onChange={(e) => (e.target.value === 'snoozed' ? setDialog('snooze') : void setStatus(e.target.value))}
              >
                {WORK_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s === 'snoozed' ? 'Snooze…' : s[0].toUpperCase() + s.slice(1)}
                  </option>
                ))}
              </select>
            )}
            {me.role !== 'viewer' && (
              <button onClick={() => setDialog('remind')} title="Remind me (m)">
                Remind me
              </button>
            )}
            {edit && conv.status !== 'resolved' && (
              <button onClick={() => void setStatus('resolved')} disabled={busy} title="Resolve (e)">
                Resolve
              </button>
            )}
          </div>
        </header>
        {others.length > 0 && (
          <p className="presence" role="status" aria-live="polite">
            {others.map((p) => `${p.name} is ${p.state === 'typing' ? 'typing…' : 'viewing'}`).join(' · ')}
          </p>
        )}
        <div
          className="scroller"
          ref={scroller}
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          }}
        >
          {hasOlder && (
            <button className="link older" onClick={() => void loadOlder()}>
              Load older messages
            </button>
          )}
          <TimelineList items={items} dir={dir} />
        </div>
        <Composer ref={composer} conv={conv} onRefresh={() => void reload()} onClaim={claim} onTakeover={takeover} onTakeBack={takeBack} busy={busy} />
      </section>
      <Details conv={conv} edit={edit} busy={busy} onPriority={(p) => void act('Priority', 'priority', { priority: p })} onLabels={(l) => void act('Labels', 'labels', { labels: l })} />
      {dialog === 'handoff' && <HandoffDialog conv={conv} onClose={() => setDialog(null)} onSubmit={(b) => act('Hand off', 'handoff', b)} />}
      {dialog === 'assign' && <AssignDialog conv={conv} onClose={() => setDialog(null)} onSubmit={(b) => act('Assign', 'assign', b)} />}
      {dialog === 'snooze' && <TimeDialog title="Snooze until" action="Snooze" onClose={() => setDialog(null)} onSubmit={(until) => setStatus('snoozed', until)} />}
      {dialog === 'remind' && <TimeDialog title="Remind me" action="Set reminder" onClose={() => setDialog(null)} onSubmit={(at) => remind({ at })} onNextDay={(nextDayAt) => remind({ nextDayAt })} />}
    </>
  );
}

interface ContactConversation {
  id: string;
  phoneNumberId: string;
  status: string;
  lastMessageAt: string | null;
  lastMessageText: string | null;
}

/** The contact's other conversations (other business numbers) the caller may see, from the contacts API when present. */
function OtherConversations({ contactId, currentId }: { contactId: string; currentId: string }) {
  const [items, setItems] = useState<ContactConversation[] | null>(null);
  useEffect(() => {
    api<{ conversations?: ContactConversation[] }>(`/api/v1/contacts/${contactId}`)
      .then((c) => setItems((c.conversations ?? []).filter((x) => x.id !== currentId)))
      .catch(() => setItems(null));
  }, [contactId, currentId]);
  if (!items || items.length === 0) return null;
  return (
    <section>
      <h3>Other conversations</h3>
      <ul className="plain">
        {items.map((c) => (
          <li key={c.id}>
            <a href={`/c/${c.id}`} onClick={(e) => (e.preventDefault(), navigate(`/c/${c.id}`))}>
              {c.lastMessageText ?? 'Conversation'}
            </a>
            <div className="muted small">
              number {c.phoneNumberId} · {c.status} · {dateTime(c.lastMessageAt)}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Details({ conv, edit, busy, onPriority, onLabels }: { conv: Conversation; edit: boolean; busy: boolean; onPriority(p: string): void; onLabels(l: string[]): void }) {
  const { dir } = useApp();
  const now = useNow(1000);
  const sla = slaSummary(conv);
  const windowLeft = conv.window.endsAt ? Date.parse(conv.window.endsAt) - now : 0;
  return (
    <aside className="pane details" aria-label="Details">
      <section>
        <h3>Contact</h3>
        <p>
          <strong>{contactName(conv.contact)}</strong>
        </p>
        {conv.contact.waId && <p className="muted">+{conv.contact.waId}</p>}
        {conv.contact.blocked && <p className="warn-text">This contact is blocked.</p>}
        <p className="muted small">Business number {conv.phoneNumberId}</p>
      </section>
      <OtherConversations contactId={conv.contact.id} currentId={conv.id} />
      <section>
        <h3>WhatsApp window</h3>
        {conv.window.open && conv.window.endsAt ? (
          <p className={windowLeft < 3600_000 ? 'warn-text' : ''}>
            Open — closes in <strong className="countdown">{countdown(conv.window.endsAt, now)}</strong>
          </p>
        ) : (
          <p className="warn-text">Closed: only approved templates can be sent.</p>
        )}
        {conv.lastInboundAt && <p className="muted small">Customer last wrote {since(conv.lastInboundAt, now)} ago</p>}
      </section>
      {conv.sla && (
        <section aria-label="SLA">
          <h3>SLA</h3>
          {sla ? (
            <p>
              <span className={`chip sla sla-${sla.state}`} data-sla={sla.state}>
                {SLA_LABEL[sla.state]}
              </span>
            </p>
          ) : (
            <p className="muted small">No clock running.</p>
          )}
          {(
            [
              ['firstResponse', 'First response'],
              ['nextResponse', 'Next response'],
              ['resolution', 'Resolution'],
            ] as const
          ).map(([k, label]) => {
            const clock = conv.sla?.[k];
            if (!clock) return null;
            return (
              <p key={k} className={`small sla-line sla-${clock.state}`}>
                {label}:{' '}
                {clock.state === 'met' ? 'met' : clock.paused ? 'paused (outside business hours)' : clock.dueAt ? (Date.parse(clock.dueAt) < now ? `breached ${countdown(clock.dueAt, now).replace('overdue ', '')} ago` : `due in ${countdown(clock.dueAt, now)}`) : ''}
              </p>
            );
          })}
        </section>
      )}
      <section>
        <h3>Work</h3>
        <dl>
          <dt>Owner</dt>
          <dd>{conv.owner?.name ?? (conv.bot ? `${botName(conv.bot)} (bot, since ${dateTime(conv.bot.since)})` : 'Unassigned')}</dd>
          <dt>Team</dt>
          <dd>{conv.team?.name ?? 'No team'}</dd>
          <dt>Status</dt>
          <dd>{conv.status}</dd>
          <dt>Priority</dt>
          <dd>
            {edit ? (
              <select aria-label="Priority" value={conv.priority} disabled={busy} onChange={(e) => onPriority(e.target.value)}>
                {PRIORITIES.map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            ) : (
              conv.priority
            )}
          </dd>
          <dt>Opened</dt>
          <dd>{dateTime(conv.openedAt)}</dd>
          {conv.messageCount !== null && (
            <>
              <dt>Messages</dt>
              <dd>{conv.messageCount}</dd>
            </>
          )}
        </dl>
      </section>
      <CsatDetails conversationId={conv.id} />
      <section>
        <h3>Labels</h3>
        <div className="labels">
          {conv.labels.length === 0 && <span className="muted small">None</span>}
          {conv.labels.map((l) => {
            const color = dir.labels.find((x) => x.name === l)?.color;
            return (
              <span key={l} className="chip label" style={color ? { borderColor: color } : undefined}>
                {l}
                {edit && (
                  <button className="x" aria-label={`Remove label ${l}`} disabled={busy} onClick={() => onLabels(conv.labels.filter((x) => x !== l))}>
                    ×
                  </button>
                )}
              </span>
            );
          })}
        </div>
        {edit && dir.labels.length > 0 && (
          <select aria-label="Add label" value="" disabled={busy} onChange={(e) => e.target.value && onLabels([...conv.labels, e.target.value])}>
            <option value="">+ Add label</option>
            {dir.labels
              .filter((l) => !conv.labels.includes(l.name))
              .map((l) => (
                <option key={l.id} value={l.name}>
                  {l.name}
                </option>
              ))}
          </select>
        )}
      </section>
    </aside>
  );
}
