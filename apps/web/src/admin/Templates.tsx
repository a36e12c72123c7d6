import { Fragment, useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../lib/api';
import { TableHead } from '../lib/bits';
import { useApp } from '../lib/context';
import { dateTime } from '../lib/format';

interface Template {
  wabaId: string;
  templateId: string | null;
  name: string;
  language: string;
  status: string;
  category: string | null;
  body: string | null;
  bodyParameterCount: number | null;
  syncedAt: string | null;
  updatedAt: string;
}
interface TemplateNumber {
  phoneNumberId: string;
  wabaId: string;
  displayNumber: string;
}
interface TemplateList {
  items: Template[];
  numbers: TemplateNumber[];
  syncedWabaIds: string[];
  lastSyncedAt: string | null;
}
interface SyncResult {
  synced: number;
  failures: { wabaId: string; reason: string }[];
}

/** Each status in words (what it means for sending), never colour only. */
const STATUS_WORDS: Record<string, string> = {
  APPROVED: 'Approved — can be sent',
  PENDING: 'Pending review',
  REJECTED: 'Rejected',
  PAUSED: 'Paused (low quality)',
  DISABLED: 'Disabled',
};
const STATUS_FILTERS = ['', 'APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED'];

export function TemplateStatusBadge({ status }: { status: string }) {
  return <span className={`chip tpl-${status.toLowerCase()}`}>{STATUS_WORDS[status] ?? status.replace(/_/g, ' ').toLowerCase()}</span>;
}

/** The body text with its {{n}} parameters marked, so it reads as a preview of the message. */
export function BodyPreview({ text }: { text: string | null }) {
  if (text === null) return <span className="muted">no body</span>;
  const parts = text.split(/(\{\{\s*\w+\s*\}\})/g);
  return (
    <span className="tpl-body">
      {parts.map((p, i) =>
        /^\{\{\s*\w+\s*\}\}$/.test(p) ? (
          <mark key={i} className="tpl-param" aria-label={`parameter ${p.replace(/[{}\s]/g, '')}`}>
            {p}
          </mark>
        ) : (
          <Fragment key={i}>{p}</Fragment>
        ),
      )}
    </span>
  );
}

/**
 * WhatsApp message templates per business number, as synced from the Graph API (every status), with "Sync now".
 * Read-only: templates are created and edited in WhatsApp Manager, then arrive here by a sync or a status webhook.
 */
export function Templates() {
  const { me, toast } = useApp();
  const [number, setNumber] = useState('');
  const [status, setStatus] = useState('');
  const [data, setData] = useState<TemplateList | null>(null);
  /** The numbers the caller may see (from an unfiltered answer), for the picker. */
  const [allNumbers, setAllNumbers] = useState<TemplateNumber[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [syncing, setSyncing] = useState(false);
  const [syncError, setSyncError] = useState<string | null>(null);
  const [syncNote, setSyncNote] = useState<string | null>(null);

  const load = useCallback(() => {
    const q = new URLSearchParams();
    if (number) q.set('phoneNumberId', number);
    if (status) q.set('status', status);
    const qs = q.toString();
    void api<TemplateList>(`/api/v1/templates${qs ? `?${qs}` : ''}`)
      .then((r) => {
        setData(r);
        if (!number) setAllNumbers(r.numbers);
        setError(null);
      })
      .catch((e) => setError(e instanceof Error ? e.message : String(e)));
  }, [number, status]);
  useEffect(load, [load]);

  async function sync() {
    setSyncing(true);
    setSyncError(null);
    setSyncNote(null);
    try {
      const r = await api<SyncResult>('/api/v1/templates/sync', { method: 'POST' });
      toast(`Synced ${r.synced} template${r.synced === 1 ? '' : 's'} from WhatsApp`);
      setSyncNote(r.failures.length ? `Not synced: ${r.failures.map((f) => `account ${f.wabaId} (${f.reason})`).join('; ')}` : null);
      load();
    } catch (e) {
      setSyncError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setSyncing(false);
    }
  }

  const numbers = data?.numbers ?? [];
  const byWaba = new Map<string, Template[]>();
  for (const t of data?.items ?? []) byWaba.set(t.wabaId, [...(byWaba.get(t.wabaId) ?? []), t]);
  const accounts = [...byWaba.keys()];
  return (
    <section aria-labelledby="templates-h">
      <h2 id="templates-h">Message templates</h2>
      <p className="muted">
        Templates are created and edited in WhatsApp Manager (Meta Business Suite), not here. Meta reviews them; their status arrives by webhook or
        with a sync. Only approved templates can be sent, for example to write first or after the 24-hour window.
      </p>
      <div className="toolbar">
        <label>
          Business number{' '}
          <select value={number} onChange={(e) => setNumber(e.target.value)}>
            <option value="">All numbers</option>
            {allNumbers.map((n) => (
              <option key={n.phoneNumberId} value={n.phoneNumberId}>
                {n.displayNumber}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUS_FILTERS.map((s) => (
              <option key={s} value={s}>
                {s ? STATUS_WORDS[s] : 'Any status'}
              </option>
            ))}
          </select>
        </label>{' '}
        {me.role === 'admin' && (
          <button className="primary" onClick={() => void sync()} disabled={syncing} aria-busy={syncing}>
            {syncing ? 'Syncing…' : 'Sync now'}
          </button>
        )}
      </div>
      <p className="muted small" role="status">
        {syncing ? 'Syncing templates from WhatsApp…' : data ? `Last synced: ${data.lastSyncedAt ? dateTime(data.lastSyncedAt) : 'never'}` : ''}
      </p>
      {syncError && (
        <p className="error" role="alert">
          Sync failed: {syncError}
        </p>
      )}
      {syncNote && <p className="warn-text">{syncNote}</p>}
      {error ? (
        <p className="error" role="alert">
          Templates are not available: {error}
        </p>
      ) : !data ? (
        <p className="muted">Loading…</p>
      ) : accounts.length === 0 ? (
        <p className="muted">No templates{status ? ` with status ${STATUS_WORDS[status] ?? status}` : ''}. Create them in WhatsApp Manager, then sync.</p>
      ) : (
        accounts.map((waba) => {
          const on = numbers.filter((n) => n.wabaId === waba).map((n) => n.displayNumber);
          const caption = on.length ? `Templates of ${on.join(', ')}` : `Templates of WhatsApp account ${waba}`;
          return (
            <table key={waba} className="wide">
              <caption>
                {caption} <span className="muted small">(account {waba})</span>
              </caption>
              <TableHead cols={['Name', 'Language', 'Category', 'Status', 'Body', 'Last synced']} />
              <tbody>
                {byWaba.get(waba)!.map((t) => (
                  <tr key={`${t.name}/${t.language}`}>
                    <td>{t.name}</td>
                    <td>{t.language}</td>
                    <td>{t.category ? t.category.toLowerCase() : '—'}</td>
                    <td>
                      <TemplateStatusBadge status={t.status} />
                    </td>
                    <td>
                      <BodyPreview text={t.body} />
                      {t.bodyParameterCount ? <span className="muted small"> ({t.bodyParameterCount} parameter{t.bodyParameterCount === 1 ? '' : 's'})</span> : null}
                    </td>
                    <td>{t.syncedAt ? dateTime(t.syncedAt) : 'never'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        })
      )}
    </section>
  );
}
