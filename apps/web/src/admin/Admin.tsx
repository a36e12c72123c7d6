import { useCallback, useEffect, useState } from 'react';
import { api } from '../lib/api';
import { AddForm, DeleteButton, toggle, useList, useSubmit } from './shared';
import { WhatsAppAccounts } from './WhatsApp';
import { Templates } from './Templates';
import { BusinessHours } from './BusinessHours';
import { Automation } from './Automation';
import { EventWebhooks } from './EventWebhooks';
import { TableHead, TeamOptions } from '../lib/bits';
import { useApp } from '../lib/context';
import { dateTime } from '../lib/format';
import { navigate } from '../lib/router';
import type { ApiKey, Role } from '../lib/types';

const TABS = [
  ['users', 'Users'],
  ['roles', 'Roles'],
  ['teams', 'Teams'],
  ['labels', 'Labels'],
  ['api-keys', 'API keys'],
  ['sla', 'SLA policies'],
  ['business-hours', 'Business hours'],
  ['routing', 'Routing rules'],
  ['automation', 'Automation'],
  ['webhooks', 'Event webhooks'],
  ['whatsapp', 'WhatsApp'],
  ['templates', 'Templates'],
] as const;
/** What managers may change (for their own teams, as the API decides); everything else is for admins. */
const MANAGER_TABS = new Set<string>(['sla', 'business-hours', 'routing', 'automation', 'templates']);
const ROLES: Role[] = ['agent', 'manager', 'admin', 'viewer'];
/** `bot`: the key is an integrator's bot that holds conversations and hands them over (docs/INTEGRATIONS.md). */
const SCOPES = ['conversations:read', 'conversations:write', 'messages:send', 'audit:read', 'admin', 'bot'];

/** Admin screens over the gateway's directory API. */
export function Admin({ path }: { path: string }) {
  const { me } = useApp();
  const tabs = TABS.filter(([id]) => me.role === 'admin' || MANAGER_TABS.has(id));
  const asked = path.split('/')[2];
  const tab = (tabs.some(([id]) => id === asked) ? asked : tabs[0][0]) as (typeof TABS)[number][0];
  return (
    <main className="page admin">
      <h1>Administration</h1>
      <div className="tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button key={id} role="tab" aria-selected={tab === id} className={tab === id ? 'tab active' : 'tab'} onClick={() => navigate(`/admin/${id}`)}>
            {label}
          </button>
        ))}
      </div>
      {tab === 'users' && <Users />}
      {tab === 'roles' && <Roles />}
      {tab === 'teams' && <Teams />}
      {tab === 'labels' && <Labels />}
      {tab === 'api-keys' && <ApiKeys />}
      {tab === 'sla' && <SlaPolicies />}
      {tab === 'business-hours' && <BusinessHours />}
      {tab === 'routing' && <RoutingRules />}
      {tab === 'automation' && <Automation />}
      {tab === 'webhooks' && <EventWebhooks />}
      {tab === 'whatsapp' && <WhatsAppAccounts />}
      {tab === 'templates' && <Templates />}
    </main>
  );
}

interface RoleView {
  role: Role;
  description: string;
  scopes: { scope: string; description: string }[];
}

/** The built-in roles and what each may do, as the API enforces them (read-only: custom roles are not built). */
function Roles() {
  const list = useList<RoleView>('/api/v1/roles');
  return (
    <section aria-labelledby="roles-h">
      <h2 id="roles-h">Roles</h2>
      <p className="muted">
        These are the built-in roles; custom roles are not available yet. A person’s role is changed on the Users tab. Routing applies the team rules
        on top: people see the conversations of their teams and the unassigned queue, and only the owner replies.
      </p>
      {list.error ? (
        <p className="error" role="alert">
          Roles are not available: {list.error}
        </p>
      ) : (
        <table className="wide">
          <TableHead cols={['Role', 'May', 'Permissions']} />
          <tbody>
            {list.items.map((r) => (
              <tr key={r.role}>
                <th scope="row">{r.role}</th>
                <td>{r.description}</td>
                <td>
                  <ul className="plain small">
                    {r.scopes.map((s) => (
                      <li key={s.scope}>
                        <code>{s.scope}</code>: {s.description}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Users() {
  const { dir, reloadDirectory, me } = useApp();
  const { error, run } = useSubmit();
  const [form, setForm] = useState({ name: '', email: '', password: '', role: 'agent' as Role, teamIds: [] as string[] });
  async function create() {
    if (await run(`Created ${form.email}`, () => api('/api/v1/users', { method: 'POST', body: form }))) {
      setForm({ name: '', email: '', password: '', role: 'agent', teamIds: [] });
      reloadDirectory();
    }
  }
  const patch = async (id: string, body: object, what: string) => (await run(what, () => api(`/api/v1/users/${id}`, { method: 'PATCH', body }))) && reloadDirectory();
  return (
    <section>
      <table className="wide">
        <TableHead cols={['Name', 'Email', 'Role', 'Teams', 'Active']} />
        <tbody>
          {[...dir.users.values()].map((u) => (
            <tr key={u.id} className={u.disabled ? 'muted' : ''}>
              <td>{u.name}</td>
              <td>{u.email}</td>
              <td>
                <select aria-label={`Role of ${u.name}`} value={u.role} disabled={u.id === me.id} onChange={(e) => void patch(u.id, { role: e.target.value }, `${u.name} is now ${e.target.value}`)}>
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </td>
              <td>
                {[...dir.teams.values()].map((t) => (
                  <label key={t.id} className="inline">
                    <input
                      type="checkbox"
                      checked={u.teamIds.includes(t.id)}
                      onChange={(e) => void patch(u.id, { teamIds: toggle(u.teamIds, t.id, e.target.checked) }, `Teams of ${u.name} updated`)}
                    />
                    {t.name}
                  </label>
                ))}
              </td>
              <td>
                <input type="checkbox" aria-label={`${u.name} active`} checked={!u.disabled} disabled={u.id === me.id} onChange={(e) => void patch(u.id, { disabled: !e.target.checked }, `${u.name} ${e.target.checked ? 'enabled' : 'disabled'}`)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm title="Add a user" error={error} submit="Add user" onSubmit={() => void create()}>
        <label>
          Name <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          Email <input type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} required />
        </label>
        <label>
          Password <input type="password" minLength={12} value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} required autoComplete="new-password" />
        </label>
        <label>
          Role
          <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Teams</legend>
          {[...dir.teams.values()].map((t) => (
            <label key={t.id} className="inline">
              <input type="checkbox" checked={form.teamIds.includes(t.id)} onChange={(e) => setForm({ ...form, teamIds: toggle(form.teamIds, t.id, e.target.checked) })} />
              {t.name}
            </label>
          ))}
        </fieldset>
      </AddForm>
    </section>
  );
}

function Teams() {
  const { dir, reloadDirectory } = useApp();
  const { error, run } = useSubmit();
  const [name, setName] = useState('');
  return (
    <section>
      <table>
        <TableHead cols={['Team', 'Members', 'Created']} />
        <tbody>
          {[...dir.teams.values()].map((t) => (
            <tr key={t.id}>
              <td>
                <input
                  aria-label={`Name of team ${t.name}`}
                  defaultValue={t.name}
                  onBlur={(e) => e.target.value.trim() && e.target.value !== t.name && void run(`Renamed to ${e.target.value}`, () => api(`/api/v1/teams/${t.id}`, { method: 'PATCH', body: { name: e.target.value.trim() } })).then(reloadDirectory)}
                />
              </td>
              <td>{t.memberCount}</td>
              <td>{dateTime(t.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm
        error={error}
        submit="Add team"
        onSubmit={async () => {
          if (await run(`Created team ${name}`, () => api('/api/v1/teams', { method: 'POST', body: { name } }))) {
            setName('');
            reloadDirectory();
          }
        }}
      >
        <label>
          New team <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
      </AddForm>
    </section>
  );
}

function Labels() {
  const { dir, reloadDirectory } = useApp();
  const { error, run } = useSubmit();
  const [name, setName] = useState('');
  const [color, setColor] = useState('#3b82f6');
  return (
    <section>
      <ul className="label-list">
        {dir.labels.map((l) => (
          <li key={l.id}>
            <span className="chip label" style={{ borderColor: l.color }}>
              {l.name}
            </span>
            <input type="color" aria-label={`Colour of ${l.name}`} defaultValue={l.color} onBlur={(e) => e.target.value !== l.color && void run('Colour saved', () => api(`/api/v1/labels/${l.id}`, { method: 'PATCH', body: { color: e.target.value } })).then(reloadDirectory)} />
            <DeleteButton what={`label ${l.name}`} path={`/api/v1/labels/${l.id}`} run={run} then={reloadDirectory} />
          </li>
        ))}
      </ul>
      <AddForm
        error={error}
        submit="Add label"
        onSubmit={async () => {
          if (await run(`Created label ${name}`, () => api('/api/v1/labels', { method: 'POST', body: { name, color } }))) {
            setName('');
            reloadDirectory();
          }
        }}
      >
        <label>
          New label <input value={name} maxLength={40} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Colour <input type="color" value={color} onChange={(e) => setColor(e.target.value)} />
        </label>
      </AddForm>
    </section>
  );
}

function ApiKeys() {
  const { error, run } = useSubmit();
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['messages:send']);
  const [created, setCreated] = useState<string | null>(null);
  const load = useCallback(() => void api<{ items: ApiKey[] }>('/api/v1/api-keys').then((r) => setKeys(r.items)), []);
  useEffect(load, [load]);
  return (
    <section>
      {created && (
        <div className="banner info" role="status">
          New key (shown only now — copy it): <code className="secret">{created}</code>
        </div>
      )}
      <table className="wide">
        <TableHead cols={['Name', 'Key', 'Scopes', 'Last used', '']} />
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} className={k.revokedAt ? 'muted' : ''}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.scopes.join(', ')}</td>
              <td>{k.lastUsedAt ? dateTime(k.lastUsedAt) : 'never'}</td>
              <td>
                {k.revokedAt ? (
                  `revoked ${dateTime(k.revokedAt)}`
                ) : (
                  <button className="link" onClick={() => confirm(`Revoke ${k.name}? Integrations using it stop at once.`) && void run(`Revoked ${k.name}`, () => api(`/api/v1/api-keys/${k.id}`, { method: 'DELETE' })).then(load)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm
        error={error}
        submit="Create key"
        disabled={!scopes.length}
        onSubmit={async () => {
          let key = '';
          if (await run(`Created key ${name}`, async () => (key = (await api<{ key: string }>('/api/v1/api-keys', { method: 'POST', body: { name, scopes } })).key))) {
            setCreated(key);
            setName('');
            load();
          }
        }}
      >
        <label>
          Key name <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} className="inline">
              <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => setScopes(toggle(scopes, s, e.target.checked))} />
              {s}
            </label>
          ))}
        </fieldset>
      </AddForm>
    </section>
  );
}

interface SlaPolicy {
  id: string;
  name: string;
  teamId: string;
  priority: string | null;
  firstResponseMinutes: number;
  nextResponseMinutes: number | null;
  resolutionMinutes: number | null;
  businessHoursId: string | null;
  warnAtPercent: number;
  onBreach: string;
}

/** SLA targets per team (and optionally per priority); the sla service runs the clocks. */
function SlaPolicies() {
  const { dir } = useApp();
  const { error, run } = useSubmit();
  const [items, setItems] = useState<SlaPolicy[] | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const hours = useList<{ id: string; name: string }>('/api/v1/sla/business-hours');
  const [form, setForm] = useState({ name: '', teamId: '', firstResponseMinutes: 15, nextResponseMinutes: '', resolutionMinutes: '', businessHoursId: '' });
  const load = useCallback(
    () =>
      void api<{ items: SlaPolicy[] }>('/api/v1/sla/policies')
        .then((r) => setItems(r.items))
        .catch((e) => setUnavailable(e instanceof Error ? e.message : String(e))),
    [],
  );
  useEffect(load, [load]);
  const num = (v: string) => (v.trim() ? Number(v) : null);
  if (unavailable) return <p className="muted">SLA policies are not available: {unavailable}</p>;
  return (
    <section>
      <table className="wide">
        <TableHead cols={['Policy', 'Team', 'First response', 'Next response', 'Resolution', 'Counted', 'Warn at', '']} />
        <tbody>
          {(items ?? []).map((p) => (
            <tr key={p.id}>
              <td>
                {p.name}
                {p.priority ? ` (${p.priority})` : ''}
              </td>
              <td>{dir.teams.get(p.teamId)?.name ?? '—'}</td>
              <td>{p.firstResponseMinutes} min</td>
              <td>{p.nextResponseMinutes ? `${p.nextResponseMinutes} min` : '—'}</td>
              <td>{p.resolutionMinutes ? `${p.resolutionMinutes} min` : '—'}</td>
              <td>{p.businessHoursId ? `in ${hours.items.find((h) => h.id === p.businessHoursId)?.name ?? 'business hours'}` : 'around the clock'}</td>
              <td>{p.warnAtPercent} %</td>
              <td>
                <DeleteButton what={`policy ${p.name}`} path={`/api/v1/sla/policies/${p.id}`} run={run} then={load} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm
        title="Add a policy"
        error={error}
        submit="Add policy"
        onSubmit={async () => {
          const body = { name: form.name, teamId: form.teamId, firstResponseMinutes: Number(form.firstResponseMinutes), nextResponseMinutes: num(form.nextResponseMinutes), resolutionMinutes: num(form.resolutionMinutes), businessHoursId: form.businessHoursId || null };
          if (await run(`Created policy ${form.name}`, () => api('/api/v1/sla/policies', { method: 'POST', body }))) load();
        }}
      >
        <label>
          Name <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          Team
          <select value={form.teamId} onChange={(e) => setForm({ ...form, teamId: e.target.value })} required>
            <option value="">Choose…</option>
            <TeamOptions />
          </select>
        </label>
        <label>
          First response (min) <input type="number" min={1} value={form.firstResponseMinutes} onChange={(e) => setForm({ ...form, firstResponseMinutes: Number(e.target.value) })} required />
        </label>
        <label>
          Next response (min) <input type="number" min={1} value={form.nextResponseMinutes} onChange={(e) => setForm({ ...form, nextResponseMinutes: e.target.value })} />
        </label>
        <label>
          Resolution (min) <input type="number" min={1} value={form.resolutionMinutes} onChange={(e) => setForm({ ...form, resolutionMinutes: e.target.value })} />
        </label>
        <label>
          Count time
          <select value={form.businessHoursId} onChange={(e) => setForm({ ...form, businessHoursId: e.target.value })}>
            <option value="">around the clock</option>
            {hours.items.map((h) => (
              <option key={h.id} value={h.id}>
                in {h.name}
              </option>
            ))}
          </select>
        </label>
      </AddForm>
    </section>
  );
}

interface Rule {
  id: string;
  name: string;
  position: number;
  enabled: boolean;
  version: number;
  conditions: Record<string, unknown>;
  actions: Record<string, unknown>;
  errorCount: number;
  lastError: string | null;
}

/** Routing rules, first match wins (routing service); a dry run shows what they would do to a conversation. */
function RoutingRules() {
  const { dir } = useApp();
  const { error, run } = useSubmit();
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const [form, setForm] = useState({ name: '', keywords: '', teamId: '', priority: '', label: '' });
  const [dry, setDry] = useState({ conversationId: '', result: '' });
  const load = useCallback(
    () =>
      void api<{ items: Rule[] }>('/api/v1/routing/rules')
        .then((r) => setRules([...r.items].sort((a, b) => a.position - b.position)))
        .catch((e) => setUnavailable(e instanceof Error ? e.message : String(e))),
    [],
  );
  useEffect(load, [load]);
  if (unavailable) return <p className="muted">Routing rules are not available: {unavailable}</p>;
  const words = (o: Record<string, unknown>) =>
    Object.entries(o)
      .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => `${k}: ${k === 'teamId' ? (dir.teams.get(String(v))?.name ?? v) : Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join('; ');
  return (
    <section>
      <table className="wide">
        <TableHead cols={['#', 'Rule', 'When', 'Then', 'On', '']} />
        <tbody>
          {(rules ?? []).map((r) => (
            <tr key={r.id}>
              <td>{r.position}</td>
              <td>
                {r.name}
                {r.errorCount > 0 && <div className="error small">failed {r.errorCount}× — {r.lastError}</div>}
              </td>
              <td className="small">{words(r.conditions) || 'always'}</td>
              <td className="small">{words(r.actions)}</td>
              <td>
                <input type="checkbox" aria-label={`${r.name} enabled`} checked={r.enabled} onChange={(e) => void run(`${r.name} ${e.target.checked ? 'enabled' : 'disabled'}`, () => api(`/api/v1/routing/rules/${r.id}`, { method: 'PATCH', body: { enabled: e.target.checked } })).then(load)} />
              </td>
              <td>
                <DeleteButton what={`rule ${r.name}`} path={`/api/v1/routing/rules/${r.id}`} run={run} then={load} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm
        title="Add a rule"
        error={error}
        submit="Add rule"
        onSubmit={async () => {
          const keywords = form.keywords.split(',').map((k) => k.trim()).filter(Boolean);
          const actions = { ...(form.teamId ? { teamId: form.teamId } : {}), ...(form.priority ? { priority: form.priority } : {}), ...(form.label ? { labels: [form.label] } : {}) };
          if (await run(`Created rule ${form.name}`, () => api('/api/v1/routing/rules', { method: 'POST', body: { name: form.name, conditions: keywords.length ? { keywords } : {}, actions } }))) load();
        }}
      >
        <label>
          Name <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          When the message contains (comma-separated) <input value={form.keywords} onChange={(e) => setForm({ ...form, keywords: e.target.value })} />
        </label>
        <label>
          Send to team
          <select value={form.teamId} onChange={(e) => setForm({ ...form, teamId: e.target.value })}>
            <option value="">—</option>
            <TeamOptions />
          </select>
        </label>
        <label>
          Priority
          <select value={form.priority} onChange={(e) => setForm({ ...form, priority: e.target.value })}>
            <option value="">—</option>
            {['low', 'normal', 'high', 'urgent'].map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Label
          <select value={form.label} onChange={(e) => setForm({ ...form, label: e.target.value })}>
            <option value="">—</option>
            {dir.labels.map((l) => (
              <option key={l.id}>{l.name}</option>
            ))}
          </select>
        </label>
      </AddForm>
      <form
        className="card form inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const r = await api('/api/v1/routing/rules/dry-run', { method: 'POST', body: { conversationId: dry.conversationId.trim() } });
            setDry({ ...dry, result: JSON.stringify(r, null, 2) });
          } catch (err) {
            setDry({ ...dry, result: `Error: ${err instanceof Error ? err.message : err}` });
          }
        }}
      >
        <h2>Dry run</h2>
        <label>
          Conversation id <input value={dry.conversationId} onChange={(e) => setDry({ ...dry, conversationId: e.target.value })} required pattern="[0-9a-fA-F-]{36}" />
        </label>
        <button className="primary">Test the rules</button>
        {dry.result && <pre className="dry-run">{dry.result}</pre>}
      </form>
    </section>
  );
}
