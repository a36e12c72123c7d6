import { useEffect, useState } from 'react';
import { api, ApiError } from '../lib/api';
import { TableHead, TeamOptions } from '../lib/bits';
import { useApp } from '../lib/context';
import { dateTime } from '../lib/format';
import type { ApiKey } from '../lib/types';
import { ActiveToggle, AddForm, SecretState, useList, useSubmit } from './shared';

type Secret = { set: boolean; last4: string | null };
interface MetaApp {
  id: string;
  name: string;
  metaAppId: string | null;
  status: string;
  appSecret: Secret;
  verifyToken: Secret;
  accessToken: Secret;
}
interface Waba {
  wabaId: string;
  name: string;
  appId: string;
  status: string;
}
interface BusinessNumber {
  phoneNumberId: string;
  wabaId: string;
  displayNumber: string;
  defaultTeamId: string | null;
  graphApiVersion: string;
  status: string;
  lastTest: Record<string, unknown> | null;
}
interface ConnectionReport {
  ok: boolean;
  verifiedName: string | null;
  displayPhoneNumber: string | null;
  qualityRating: string | null;
  messagingLimit: string | null;
  testedAt: string;
}

const SECRETS = [
  ['appSecret', 'App secret'],
  ['verifyToken', 'Verify token'],
  ['accessToken', 'Access token'],
] as const;

/** Only the fields that were typed: an empty secret box means "keep the stored one". */
const filled = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v.trim() !== ''));

/** Meta apps (write-only secrets), WhatsApp Business Accounts and business numbers with a connection test. Admins only. */
export function WhatsAppAccounts() {
  const apps = useList<MetaApp>('/api/v1/meta-apps');
  const wabas = useList<Waba>('/api/v1/whatsapp-accounts');
  const numbers = useList<BusinessNumber>('/api/v1/numbers');
  const keys = useList<ApiKey>('/api/v1/api-keys');
  const refused = apps.error ?? wabas.error ?? numbers.error;
  if (refused) return <p className="muted">WhatsApp accounts are not available: {refused}</p>;
  return (
    <section>
      <MetaApps list={apps} />
      <Wabas list={wabas} apps={apps.items} />
      <Numbers list={numbers} wabas={wabas.items} bots={keys.items.filter((k) => k.scopes.includes('bot') && !k.revokedAt)} />
    </section>
  );
}

function MetaApps({ list }: { list: ReturnType<typeof useList<MetaApp>> }) {
  const { error, run } = useSubmit();
  const empty = { name: '', metaAppId: '', appSecret: '', verifyToken: '', accessToken: '' };
  const [form, setForm] = useState(empty);
  const [editing, setEditing] = useState<string | null>(null);
  const save = async () => {
    const body = filled(form);
    const ok = editing
      ? await run(`Saved app ${form.name}`, () => api(`/api/v1/meta-apps/${editing}`, { method: 'PATCH', body }))
      : await run(`Created app ${form.name}`, () => api('/api/v1/meta-apps', { method: 'POST', body }));
    if (ok) {
      setForm(empty);
      setEditing(null);
      list.load();
    }
  };
  return (
    <>
      <h2>Meta apps</h2>
      <table className="wide">
        <TableHead cols={['App', 'Meta app id', ...SECRETS.map(([, l]) => l), 'Status', '']} />
        <tbody>
          {list.items.map((a) => (
            <tr key={a.id} className={a.status === 'disabled' ? 'muted' : ''}>
              <td>{a.name}</td>
              <td>{a.metaAppId ?? '—'}</td>
              {SECRETS.map(([k]) => (
                <td key={k}>
                  <SecretState s={a[k]} />
                </td>
              ))}
              <td>
                <ActiveToggle name={a.name} status={a.status} path={`/api/v1/meta-apps/${a.id}`} run={run} then={list.load} />
              </td>
              <td>
                <button className="link" onClick={() => (setEditing(a.id), setForm({ ...empty, name: a.name, metaAppId: a.metaAppId ?? '' }))}>
                  Edit
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm title={editing ? `Edit app ${form.name}` : 'Add a Meta app'} error={error} submit={editing ? 'Save app' : 'Add app'} onSubmit={() => void save()}>
        <label>
          App name <input value={form.name} maxLength={100} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          Meta app id <input value={form.metaAppId} inputMode="numeric" onChange={(e) => setForm({ ...form, metaAppId: e.target.value })} />
        </label>
        {SECRETS.map(([k, l]) => (
          <label key={k}>
            {l} <input type="password" autoComplete="off" value={form[k]} placeholder={editing ? 'leave empty to keep' : ''} onChange={(e) => setForm({ ...form, [k]: e.target.value })} />
          </label>
        ))}
        {editing && (
          <button type="button" className="link" onClick={() => (setEditing(null), setForm(empty))}>
            Cancel
          </button>
        )}
      </AddForm>
    </>
  );
}

function Wabas({ list, apps }: { list: ReturnType<typeof useList<Waba>>; apps: MetaApp[] }) {
  const { error, run } = useSubmit();
  const [form, setForm] = useState({ wabaId: '', name: '', appId: '' });
  return (
    <>
      <h2>WhatsApp Business Accounts</h2>
      <table className="wide">
        <TableHead cols={['Account', 'WABA id', 'Meta app', 'Active']} />
        <tbody>
          {list.items.map((w) => (
            <tr key={w.wabaId} className={w.status === 'disabled' ? 'muted' : ''}>
              <td>{w.name}</td>
              <td>{w.wabaId}</td>
              <td>
                <select aria-label={`Meta app of ${w.name}`} value={w.appId} onChange={(e) => void run(`${w.name} now uses another app`, () => api(`/api/v1/whatsapp-accounts/${w.wabaId}`, { method: 'PATCH', body: { appId: e.target.value } })).then(list.load)}>
                  {apps.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.name}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <ActiveToggle name={w.name} status={w.status} path={`/api/v1/whatsapp-accounts/${w.wabaId}`} run={run} then={list.load} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm
        title="Add a WhatsApp Business Account"
        error={error}
        submit="Add account"
        onSubmit={async () => {
          if (await run(`Added account ${form.name}`, () => api('/api/v1/whatsapp-accounts', { method: 'POST', body: form }))) {
            setForm({ wabaId: '', name: '', appId: '' });
            list.load();
          }
        }}
      >
        <label>
          WABA id <input value={form.wabaId} inputMode="numeric" onChange={(e) => setForm({ ...form, wabaId: e.target.value })} required />
        </label>
        <label>
          Account name <input value={form.name} maxLength={100} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          Meta app
          <select value={form.appId} onChange={(e) => setForm({ ...form, appId: e.target.value })} required>
            <option value="">Choose…</option>
            {apps.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
      </AddForm>
    </>
  );
}

/** The result of "Test connection" (or the stored last one) in words. */
function TestResult({ r }: { r: Partial<ConnectionReport> | null }) {
  if (!r) return <span className="muted">not tested</span>;
  const bits = [r.verifiedName, r.displayPhoneNumber, r.qualityRating && `quality ${r.qualityRating}`, r.messagingLimit && `limit ${r.messagingLimit}`].filter(Boolean);
  return (
    <span className={r.ok ? 'ok' : 'error'}>
      {r.ok ? 'Connected' : 'Failed'}
      {bits.length ? `: ${bits.join(', ')}` : ''}
      {r.testedAt ? ` (${dateTime(String(r.testedAt))})` : ''}
    </span>
  );
}

type NumberBotState = { bot: { id: string; name: string | null } | null };

/**
 * The number's bot: new (and reopened, unowned) conversations on it go to this bot-scoped API key first, or are
 * routed to the team as usual ("No bot"). PUT/DELETE /api/v1/numbers/:id/bot (audited by routing).
 */
export function NumberBotControl({ number, bots }: { number: BusinessNumber; bots: ApiKey[] }) {
  const { toast } = useApp();
  const path = `/api/v1/numbers/${number.phoneNumberId}/bot`;
  const [current, setCurrent] = useState<NumberBotState['bot'] | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api<NumberBotState>(path)
      .then((r) => live && setCurrent(r.bot))
      .catch((e) => live && setError(e instanceof ApiError ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [path]);
  async function choose(apiKeyId: string) {
    setBusy(true);
    setError(null);
    try {
      const r = await api<NumberBotState>(path, apiKeyId ? { method: 'PUT', body: { apiKeyId } } : { method: 'DELETE' });
      setCurrent(r.bot);
      toast(r.bot ? `New conversations on ${number.displayNumber} go to ${r.bot.name ?? 'the bot'} first` : `${number.displayNumber} has no bot: conversations go to its team`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  // a bot whose key is no longer listed (e.g. the list failed) stays selectable under its stored name
  const options = current && !bots.some((b) => b.id === current.id) ? [{ id: current.id, name: current.name ?? current.id }, ...bots] : bots;
  return (
    <>
      <select aria-label={`Bot of ${number.displayNumber}`} value={current?.id ?? ''} disabled={current === undefined || busy} aria-busy={busy} onChange={(e) => void choose(e.target.value)}>
        <option value="">{current === undefined && !error ? 'Loading…' : 'No bot'}</option>
        {options.map((b) => (
          <option key={b.id} value={b.id}>
            {b.name}
          </option>
        ))}
      </select>
      {error && (
        <span className="error small" role="alert">
          {' '}
          {error}
        </span>
      )}
    </>
  );
}

function Numbers({ list, wabas, bots }: { list: ReturnType<typeof useList<BusinessNumber>>; wabas: Waba[]; bots: ApiKey[] }) {
  const { dir } = useApp();
  const { error, run } = useSubmit();
  const [form, setForm] = useState({ phoneNumberId: '', wabaId: '', displayNumber: '', defaultTeamId: '', graphApiVersion: '' });
  const [tests, setTests] = useState<Record<string, { report?: ConnectionReport; error?: string; busy?: boolean }>>({});
  async function test(id: string) {
    setTests((t) => ({ ...t, [id]: { busy: true } }));
    try {
      const report = await api<ConnectionReport>(`/api/v1/numbers/${id}/test`, { method: 'POST' });
      setTests((t) => ({ ...t, [id]: { report } }));
    } catch (e) {
      setTests((t) => ({ ...t, [id]: { error: e instanceof ApiError ? e.message : String(e) } }));
    }
  }
  return (
    <>
      <h2>Business numbers</h2>
      <table className="wide">
        <TableHead cols={['Number', 'Phone number id', 'Account', 'Default team', 'Bot', 'Connection', 'Active', '']} />
        <tbody>
          {list.items.map((n) => {
            const t = tests[n.phoneNumberId];
            return (
              <tr key={n.phoneNumberId} className={n.status === 'disabled' ? 'muted' : ''}>
                <td>{n.displayNumber}</td>
                <td>{n.phoneNumberId}</td>
                <td>{wabas.find((w) => w.wabaId === n.wabaId)?.name ?? n.wabaId}</td>
                <td>
                  <select aria-label={`Default team of ${n.displayNumber}`} value={n.defaultTeamId ?? ''} onChange={(e) => void run(`Default team of ${n.displayNumber} saved`, () => api(`/api/v1/numbers/${n.phoneNumberId}`, { method: 'PATCH', body: { defaultTeamId: e.target.value || null } })).then(list.load)}>
                    <option value="">—</option>
                    <TeamOptions />
                  </select>
                  {n.defaultTeamId && !dir.teams.has(n.defaultTeamId) && <span className="muted small"> (unknown team)</span>}
                </td>
                <td>
                  <NumberBotControl number={n} bots={bots} />
                </td>
                <td role="status" aria-label={`Connection of ${n.displayNumber}`}>
                  {t?.busy ? 'Testing…' : t?.error ? <span className="error">Failed: {t.error}</span> : <TestResult r={(t?.report ?? n.lastTest) as Partial<ConnectionReport> | null} />}
                </td>
                <td>
                  <ActiveToggle name={n.displayNumber} status={n.status} path={`/api/v1/numbers/${n.phoneNumberId}`} run={run} then={list.load} />
                </td>
                <td>
                  <button className="link" disabled={t?.busy} onClick={() => void test(n.phoneNumberId)}>
                    Test connection
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <AddForm
        title="Add a business number"
        error={error}
        submit="Add number"
        onSubmit={async () => {
          const body = { ...filled(form), defaultTeamId: form.defaultTeamId || null };
          if (await run(`Added ${form.displayNumber}`, () => api('/api/v1/numbers', { method: 'POST', body }))) {
            setForm({ phoneNumberId: '', wabaId: '', displayNumber: '', defaultTeamId: '', graphApiVersion: '' });
            list.load();
          }
        }}
      >
        <label>
          Phone number id <input value={form.phoneNumberId} inputMode="numeric" onChange={(e) => setForm({ ...form, phoneNumberId: e.target.value })} required />
        </label>
        <label>
          Account
          <select value={form.wabaId} onChange={(e) => setForm({ ...form, wabaId: e.target.value })} required>
            <option value="">Choose…</option>
            {wabas.map((w) => (
              <option key={w.wabaId} value={w.wabaId}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Display number <input value={form.displayNumber} placeholder="+1 555 078 3881" onChange={(e) => setForm({ ...form, displayNumber: e.target.value })} required />
        </label>
        <label>
          Default team
          <select value={form.defaultTeamId} onChange={(e) => setForm({ ...form, defaultTeamId: e.target.value })}>
            <option value="">—</option>
            <TeamOptions />
          </select>
        </label>
        <label>
          Graph API version <input value={form.graphApiVersion} placeholder="v23.0" onChange={(e) => setForm({ ...form, graphApiVersion: e.target.value })} />
        </label>
      </AddForm>
    </>
  );
}
