import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../lib/api';
import { TableHead } from '../lib/bits';
import { dateTime } from '../lib/format';
import { AddForm, DeleteButton, SecretState, toggle, useList, useSubmit } from './shared';

/** INTEGRATOR_EVENT_TYPES (libs/contracts integrations.ts): the public event names integrators subscribe to. */
const EVENT_TYPES = [
  'message.received',
  'message.status-changed',
  'conversation.opened',
  'conversation.assigned',
  'conversation.work-changed',
  'conversation.resolved',
  'note.added',
  'outbound.queued',
  'outbound.sent',
  'outbound.failed',
  'automation.triggered',
];
const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed'];

interface Subscription {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  secret: { set: boolean; last4: string | null };
  status: 'active' | 'paused';
  failureStreak: number;
  pausedAt: string | null;
  pausedReason: string | null;
}
interface Attempt {
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  conversationId: string | null;
  status: string;
  attempts: number;
  nextAttemptAt: string;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  attemptLog: Attempt[];
}

const attemptWords = (a: Attempt) => `${dateTime(a.at)}: ${a.statusCode !== null ? `HTTP ${a.statusCode}` : (a.error ?? 'no answer')} (${a.durationMs} ms)`;

/** Event-webhook subscriptions for integrators (admins): signed deliveries, a delivery log and redeliver. */
export function EventWebhooks() {
  const list = useList<Subscription>('/api/v1/webhook-subscriptions');
  const { error, run } = useSubmit();
  const empty = { url: '', eventTypes: ['message.received'], description: '', secret: '' };
  const [form, setForm] = useState(empty);
  const [editing, setEditing] = useState<string | null>(null);
  const [signingSecret, setSigningSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<Subscription | null>(null);
  if (list.error) return <p className="muted">Event webhooks are not available: {list.error}</p>;
  async function save() {
    const body = { url: form.url.trim(), eventTypes: form.eventTypes, ...(form.description.trim() ? { description: form.description.trim() } : {}), ...(form.secret ? { secret: form.secret } : {}) };
    let created: { signingSecret?: string } = {};
    const ok = editing
      ? await run('Subscription saved', () => api(`/api/v1/webhook-subscriptions/${editing}`, { method: 'PATCH', body }))
      : await run('Subscription created', async () => (created = await api<{ signingSecret: string }>('/api/v1/webhook-subscriptions', { method: 'POST', body })));
    if (ok) {
      setSigningSecret(created.signingSecret ?? null);
      setEditing(null);
      setForm(empty);
      list.load();
    }
  }
  return (
    <section>
      {signingSecret && (
        <div className="banner info" role="status">
          Signing secret (shown only now — copy it): <code className="secret">{signingSecret}</code>
        </div>
      )}
      <table className="wide">
        <TableHead cols={['URL', 'Events', 'Secret', 'Status', '']} />
        <tbody>
          {list.items.map((s) => (
            <tr key={s.id} className={s.status === 'paused' ? 'muted' : ''}>
              <td>
                <code>{s.url}</code>
                {s.description && <div className="small">{s.description}</div>}
              </td>
              <td className="small">{s.eventTypes.join(', ')}</td>
              <td>
                <SecretState s={s.secret} />
              </td>
              <td>
                {s.status === 'paused' ? `paused${s.pausedReason ? `: ${s.pausedReason}` : ''}` : 'active'}
                {s.failureStreak > 0 && <div className="error small">{s.failureStreak} failed in a row</div>}
              </td>
              <td>
                <button className="link" onClick={() => setOpen(s)}>
                  Deliveries
                </button>{' '}
                <button className="link" onClick={() => void run(s.status === 'paused' ? 'Resumed' : 'Paused', () => api(`/api/v1/webhook-subscriptions/${s.id}`, { method: 'PATCH', body: { status: s.status === 'paused' ? 'active' : 'paused' } })).then(list.load)}>
                  {s.status === 'paused' ? 'Resume' : 'Pause'}
                </button>{' '}
                <button className="link" onClick={() => (setEditing(s.id), setForm({ url: s.url, eventTypes: s.eventTypes, description: s.description ?? '', secret: '' }))}>
                  Edit
                </button>{' '}
                <DeleteButton what={`the subscription to ${s.url}`} path={`/api/v1/webhook-subscriptions/${s.id}`} run={run} then={list.load} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm title={editing ? 'Edit subscription' : 'Add a subscription'} error={error} submit={editing ? 'Save subscription' : 'Add subscription'} disabled={!form.eventTypes.length} onSubmit={() => void save()}>
        <label>
          URL <input type="url" value={form.url} maxLength={2000} placeholder="https://example.com/hooks/switchboard" onChange={(e) => setForm({ ...form, url: e.target.value })} required />
        </label>
        <label>
          Description <input value={form.description} maxLength={200} onChange={(e) => setForm({ ...form, description: e.target.value })} />
        </label>
        <label>
          Signing secret <input type="password" autoComplete="off" minLength={16} value={form.secret} placeholder={editing ? 'leave empty to keep' : 'leave empty to generate'} onChange={(e) => setForm({ ...form, secret: e.target.value })} />
        </label>
        <fieldset>
          <legend>Events</legend>
          {EVENT_TYPES.map((t) => (
            <label key={t} className="inline">
              <input type="checkbox" checked={form.eventTypes.includes(t)} onChange={(e) => setForm({ ...form, eventTypes: toggle(form.eventTypes, t, e.target.checked) })} />
              {t}
            </label>
          ))}
        </fieldset>
        {editing && (
          <button type="button" className="link" onClick={() => (setEditing(null), setForm(empty))}>
            Cancel
          </button>
        )}
      </AddForm>
      {open && <DeliveryLog key={open.id} sub={open} />}
    </section>
  );
}

/** The delivery log of one subscription, newest first, paged; a failed (or any finished) delivery can be sent again. */
function DeliveryLog({ sub }: { sub: Subscription }) {
  const { error, run } = useSubmit();
  const [status, setStatus] = useState('');
  const [page, setPage] = useState<{ items: Delivery[]; nextCursor: string | null } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const base = `/api/v1/webhook-subscriptions/${sub.id}/deliveries?limit=50${status ? `&status=${status}` : ''}`;
  const load = useCallback(
    (cursor?: string) =>
      void api<{ items: Delivery[]; nextCursor: string | null }>(cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base)
        .then((r) => {
          setLoadError(null);
          setPage((p) => (cursor && p ? { items: [...p.items, ...r.items], nextCursor: r.nextCursor } : r));
        })
        .catch((e) => setLoadError(e instanceof ApiError ? e.message : String(e))),
    [base],
  );
  useEffect(() => load(), [load]);
  return (
    <div className="card">
      <h2>Deliveries to {sub.url}</h2>
      <label>
        Status
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">all</option>
          {DELIVERY_STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      {loadError && <p className="error">The delivery log could not be loaded: {loadError}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {page && !page.items.length && <p className="muted">No deliveries yet.</p>}
      {page && page.items.length > 0 && (
        <table className="wide">
          <TableHead cols={['Event', 'Conversation', 'Status', 'Attempts', 'Created', '']} />
          <tbody>
            {page.items.map((d) => (
              <tr key={d.id}>
                <td>
                  {d.eventType}
                  <div className="small muted">{d.eventId}</div>
                </td>
                <td className="small">{d.conversationId ?? '—'}</td>
                <td className={d.status === 'failed' ? 'error' : ''}>
                  {d.status}
                  {d.status === 'delivered' && d.deliveredAt ? ` ${dateTime(d.deliveredAt)}` : ''}
                  {d.status === 'pending' && d.attempts > 0 ? ` (next try ${dateTime(d.nextAttemptAt)})` : ''}
                  {d.status !== 'delivered' && (d.lastStatusCode !== null || d.lastError) && <div className="small">last: {d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.lastError}</div>}
                </td>
                <td className="small">
                  {d.attempts}
                  {d.attemptLog.length > 0 && (
                    <details>
                      <summary>log</summary>
                      <ul>
                        {d.attemptLog.map((a, i) => (
                          <li key={i}>{attemptWords(a)}</li>
                        ))}
                      </ul>
                    </details>
                  )}
                </td>
                <td className="small">{dateTime(d.createdAt)}</td>
                <td>
                  <button className="link" disabled={d.status === 'sending'} onClick={() => void run('Queued for redelivery', () => api(`/api/v1/webhook-subscriptions/${sub.id}/deliveries/${d.id}/redeliver`, { method: 'POST' })).then((ok) => ok && load())}>
                    Redeliver
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.nextCursor && (
        <button className="link" onClick={() => load(page.nextCursor!)}>
          Older deliveries
        </button>
      )}
    </div>
  );
}
