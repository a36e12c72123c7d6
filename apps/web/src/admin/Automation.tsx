import { useState } from 'react';
import { api, ApiError } from '../lib/api';
import { TableHead, TeamOptions } from '../lib/bits';
import { useApp } from '../lib/context';
import { CsatSettings } from './CsatSettings';
import { AddForm, DeleteButton, TeamOrNumberFields, useList, useSubmit } from './shared';

const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const EVENTS = ['conversation.opened', 'message.received', 'status.changed', 'label.added', 'sla.warning', 'sla.breach', 'conversation.idle'] as const;

/** A macro step or rule action (libs/contracts routing/automation.ts), kept loose: the API validates. */
type Step = { type: string } & Record<string, unknown>;
interface AutoReply {
  id: string;
  kind: 'greeting' | 'away';
  teamId: string | null;
  phoneNumberId: string | null;
  text: string;
  periodMinutes: number;
  enabled: boolean;
  sentCount: number;
  errorCount: number;
  lastError: string | null;
}
interface Canned {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  teamId: string | null;
  ownerId: string | null;
}
interface Macro {
  id: string;
  name: string;
  ownerId: string | null;
  steps: Step[];
}
interface AutomationRule {
  id: string;
  position: number;
  name: string;
  event: string;
  conditions: Record<string, unknown>;
  actions: Step[];
  enabled: boolean;
  runCount: number;
  errorCount: number;
  lastError: string | null;
  loopsStopped: number;
}

const csv = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Greeting/away replies, canned responses, macros and automation rules. */
export function Automation() {
  return (
    <section>
      <AutoReplies />
      <CannedResponses />
      <Macros />
      <AutomationRules />
      <CsatSettings />
    </section>
  );
}

function useTeamName() {
  const { dir } = useApp();
  return (id: string | null | undefined) => (id ? (dir.teams.get(id)?.name ?? id) : '—');
}

/** A step in words, e.g. "add labels vip, billing" or "hand off to Sales: see note" (`canned`: to name canned responses). */
export function useStepWords(canned: Canned[] = []) {
  const team = useTeamName();
  const { dir } = useApp();
  return (s: Step): string => {
    switch (s.type) {
      case 'addLabels':
        return `add labels ${(s.labels as string[]).join(', ')}`;
      case 'removeLabels':
        return `remove labels ${(s.labels as string[]).join(', ')}`;
      case 'setPriority':
        return `priority ${String(s.priority)}`;
      case 'setStatus':
        return `status ${String(s.status)}`;
      case 'snooze':
        return `snooze ${String(s.minutes)} min`;
      case 'handoff':
        return `hand off to ${team(s.toTeamId as string)}: ${String(s.note)}`;
      case 'assign':
        return `assign to ${dir.users.get(s.agentId as string)?.name ?? String(s.agentId)}`;
      case 'note':
        return `note: ${String(s.body)}`;
      case 'notify':
        return `notify ${[...((s.userIds as string[] | undefined) ?? []).map((u) => dir.users.get(u)?.name ?? u), ...(s.teamManagers ? ['team managers'] : [])].join(', ')}`;
      case 'reply':
        return `reply: ${String(s.text)}`;
      case 'webhook':
        return `webhook ${String(s.name)}`;
      case 'template':
        return `template ${String(s.name)} (${String(s.language)})`;
      case 'sendCanned': {
        const c = canned.find((x) => x.id === s.cannedResponseId);
        return c ? `send canned reply /${c.shortcut}` : 'send a canned reply';
      }
      default:
        return s.type;
    }
  };
}

const STEP_TYPES = [
  ['addLabels', 'Add labels'],
  ['removeLabels', 'Remove labels'],
  ['setPriority', 'Set priority'],
  ['setStatus', 'Set status'],
  ['snooze', 'Snooze'],
  ['handoff', 'Hand off to team'],
  ['assign', 'Assign to agent'],
  ['note', 'Internal note'],
  ['sendCanned', 'Send a canned reply'],
] as const;
const RULE_ONLY = [
  ['reply', 'Reply to the customer'],
  ['webhook', 'Call webhook'],
] as const;
/** Required fields of each step type, filled with harmless defaults for a fresh step. */
const STEP_DEFAULTS: Record<string, Record<string, unknown>> = {
  addLabels: { labels: [] },
  removeLabels: { labels: [] },
  setPriority: { priority: 'high' },
  setStatus: { status: 'pending' },
  snooze: { minutes: 60 },
  handoff: { toTeamId: '', note: '' },
  assign: { agentId: '' },
  note: { body: '' },
  sendCanned: { cannedResponseId: '' },
  reply: { text: '' },
  webhook: { name: '' },
};
const newStep = (type: string): Step => ({ type, ...STEP_DEFAULTS[type] });

/**
 * The list of steps (macro) or actions (rule): type, then that type's fields. `canned`: the responses a canned-reply
 * step may pick (rules: team responses only, as the API requires). `agentTeamId`: an assign step offers active
 * people (not viewers) of that team (a rule's team: the API requires its assignee to be a member), else all of them.
 */
function StepsEditor({ steps, onChange, legend, withRuleActions, canned, agentTeamId }: { steps: Step[]; onChange(s: Step[]): void; legend: string; withRuleActions?: boolean; canned: Canned[]; agentTeamId?: string }) {
  const { dir } = useApp();
  const agents = [...dir.users.values()].filter((u) => !u.disabled && u.role !== 'viewer' && (!agentTeamId || u.teamIds.includes(agentTeamId))).sort((a, b) => a.name.localeCompare(b.name));
  const set = (i: number, patch: Record<string, unknown>) => onChange(steps.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const types = withRuleActions ? [...STEP_TYPES, ...RULE_ONLY] : STEP_TYPES;
  return (
    <fieldset>
      <legend>{legend}</legend>
      {steps.map((s, i) => {
        const n = `${legend} ${i + 1}`;
        return (
          <div key={i} className="row">
            <select aria-label={`${n} type`} value={s.type} onChange={(e) => onChange(steps.map((x, j) => (j === i ? newStep(e.target.value) : x)))}>
              {types.map(([t, l]) => (
                <option key={t} value={t}>
                  {l}
                </option>
              ))}
            </select>
            {(s.type === 'addLabels' || s.type === 'removeLabels') && <input aria-label={`${n} labels`} placeholder="vip, billing" value={(s.labels as string[]).join(', ')} onChange={(e) => set(i, { labels: e.target.value.split(',').map((x) => x.trimStart()) })} required />}
            {s.type === 'setPriority' && (
              <select aria-label={`${n} priority`} value={String(s.priority)} onChange={(e) => set(i, { priority: e.target.value })}>
                {PRIORITIES.map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            )}
            {s.type === 'setStatus' && (
              <select aria-label={`${n} status`} value={String(s.status)} onChange={(e) => set(i, { status: e.target.value })}>
                {['open', 'pending', 'resolved'].map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            )}
            {s.type === 'snooze' && <input type="number" min={1} aria-label={`${n} minutes`} value={Number(s.minutes)} onChange={(e) => set(i, { minutes: Number(e.target.value) })} />}
            {s.type === 'handoff' && (
              <>
                <select aria-label={`${n} team`} value={String(s.toTeamId)} onChange={(e) => set(i, { toTeamId: e.target.value })} required>
                  <option value="">Choose…</option>
                  <TeamOptions />
                </select>
                <input aria-label={`${n} note`} value={String(s.note)} onChange={(e) => set(i, { note: e.target.value })} required />
              </>
            )}
            {s.type === 'assign' && (
              <select aria-label={`${n} agent`} value={String(s.agentId)} onChange={(e) => set(i, { agentId: e.target.value })} required>
                <option value="">Choose…</option>
                {agents.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                  </option>
                ))}
              </select>
            )}
            {s.type === 'note' && <input aria-label={`${n} note`} value={String(s.body)} onChange={(e) => set(i, { body: e.target.value })} required />}
            {s.type === 'sendCanned' && (
              <select aria-label={`${n} canned response`} value={String(s.cannedResponseId)} onChange={(e) => set(i, { cannedResponseId: e.target.value })} required>
                <option value="">Choose…</option>
                {canned.map((c) => (
                  <option key={c.id} value={c.id}>
                    /{c.shortcut} — {c.title}
                  </option>
                ))}
              </select>
            )}
            {s.type === 'reply' && <input aria-label={`${n} text`} value={String(s.text)} onChange={(e) => set(i, { text: e.target.value })} required />}
            {s.type === 'webhook' && <input aria-label={`${n} name`} value={String(s.name)} onChange={(e) => set(i, { name: e.target.value })} required />}
            <button type="button" className="link" onClick={() => onChange(steps.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        );
      })}
      <button type="button" className="link" onClick={() => onChange([...steps, newStep('addLabels')])}>
        Add {withRuleActions ? 'action' : 'step'}
      </button>
    </fieldset>
  );
}

/** Labels typed as "a, b," are cleaned before sending. */
const cleanSteps = (steps: Step[]) => steps.map((s) => (Array.isArray(s.labels) ? { ...s, labels: (s.labels as string[]).map((l) => l.trim()).filter(Boolean) } : s));

function AutoReplies() {
  const list = useList<AutoReply>('/api/v1/auto-replies');
  const team = useTeamName();
  const { error, run } = useSubmit();
  const [form, setForm] = useState({ kind: 'greeting' as AutoReply['kind'], target: 'team' as 'team' | 'number', teamId: '', phoneNumberId: '', text: '', periodMinutes: 1440 });
  const put = (r: Omit<AutoReply, 'id' | 'sentCount' | 'errorCount' | 'lastError'>, what: string) => {
    const body = { kind: r.kind, ...(r.teamId ? { teamId: r.teamId } : { phoneNumberId: r.phoneNumberId }), text: r.text, periodMinutes: r.periodMinutes, enabled: r.enabled };
    return run(what, () => api('/api/v1/auto-replies', { method: 'PUT', body }));
  };
  return (
    <>
      <h2>Greeting and away replies</h2>
      {list.error ? (
        <p className="muted">Auto-replies are not available: {list.error}</p>
      ) : (
        <table className="wide">
          <TableHead cols={['Kind', 'For', 'Text', 'At most every', 'Sent', 'On', '']} />
          <tbody>
            {list.items.map((r) => (
              <tr key={r.id}>
                <td>{r.kind}</td>
                <td>{r.teamId ? `team ${team(r.teamId)}` : `number ${r.phoneNumberId}`}</td>
                <td className="small" style={{ whiteSpace: 'pre-wrap' }}>{r.text}</td>
                <td>{r.periodMinutes} min</td>
                <td>
                  {r.sentCount}
                  {r.errorCount > 0 && <div className="error small">failed {r.errorCount}× — {r.lastError}</div>}
                </td>
                <td>
                  <input type="checkbox" aria-label={`${r.kind} for ${r.teamId ? team(r.teamId) : r.phoneNumberId} enabled`} checked={r.enabled} onChange={(e) => void put({ ...r, enabled: e.target.checked }, `${r.kind} reply ${e.target.checked ? 'enabled' : 'disabled'}`).then(list.load)} />
                </td>
                <td>
                  <DeleteButton what={`this ${r.kind} reply`} path={`/api/v1/auto-replies/${r.id}`} run={run} then={list.load} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddForm
        error={error}
        submit="Save reply"
        onSubmit={async () => {
          const r = { kind: form.kind, teamId: form.target === 'team' ? form.teamId : null, phoneNumberId: form.target === 'number' ? form.phoneNumberId.trim() : null, text: form.text, periodMinutes: Number(form.periodMinutes), enabled: true };
          if (await put(r, `Saved ${form.kind} reply`)) {
            setForm({ ...form, text: '' });
            list.load();
          }
        }}
      >
        <label>
          Kind
          <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as AutoReply['kind'] })}>
            <option value="greeting">greeting (first message)</option>
            <option value="away">away (outside business hours)</option>
          </select>
        </label>
        <TeamOrNumberFields form={form} onChange={(patch) => setForm({ ...form, ...patch })} />
        <label>
          Reply text <textarea value={form.text} maxLength={4096} onChange={(e) => setForm({ ...form, text: e.target.value })} required />
        </label>
        <label>
          At most every (min) <input type="number" min={1} value={form.periodMinutes} onChange={(e) => setForm({ ...form, periodMinutes: Number(e.target.value) })} />
        </label>
      </AddForm>
    </>
  );
}

function CannedResponses() {
  const { me } = useApp();
  const team = useTeamName();
  const list = useList<Canned>('/api/v1/canned-responses');
  const { error, run } = useSubmit();
  const [form, setForm] = useState({ shortcut: '', title: '', text: '', teamId: '' });
  return (
    <>
      <h2>Canned responses</h2>
      {list.error ? (
        <p className="muted">Canned responses are not available: {list.error}</p>
      ) : (
        <table className="wide">
          <TableHead cols={['Shortcut', 'Title', 'Text', 'For', '']} />
          <tbody>
            {list.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <code>/{c.shortcut}</code>
                </td>
                <td>{c.title}</td>
                <td className="small" style={{ whiteSpace: 'pre-wrap' }}>{c.text}</td>
                <td>{c.teamId ? `team ${team(c.teamId)}` : c.ownerId === me.id ? 'only me' : 'personal'}</td>
                <td>
                  <DeleteButton what={`/${c.shortcut}`} path={`/api/v1/canned-responses/${c.id}`} run={run} then={list.load} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddForm
        error={error}
        submit="Add response"
        onSubmit={async () => {
          const body = { shortcut: form.shortcut.trim(), title: form.title, text: form.text, ...(form.teamId ? { teamId: form.teamId } : {}) };
          if (await run(`Added /${body.shortcut}`, () => api('/api/v1/canned-responses', { method: 'POST', body }))) {
            setForm({ shortcut: '', title: '', text: '', teamId: form.teamId });
            list.load();
          }
        }}
      >
        <label>
          Shortcut <input value={form.shortcut} maxLength={40} placeholder="thanks" onChange={(e) => setForm({ ...form, shortcut: e.target.value })} required />
        </label>
        <label>
          Title <input value={form.title} maxLength={100} onChange={(e) => setForm({ ...form, title: e.target.value })} required />
        </label>
        <label>
          Response text <textarea value={form.text} maxLength={4096} placeholder="Hi {{contact.name}}, …" onChange={(e) => setForm({ ...form, text: e.target.value })} required />
        </label>
        <label>
          Shared with
          <select value={form.teamId} onChange={(e) => setForm({ ...form, teamId: e.target.value })}>
            <option value="">only me</option>
            <TeamOptions />
          </select>
        </label>
      </AddForm>
    </>
  );
}

function Macros() {
  const { me } = useApp();
  const canned = useList<Canned>('/api/v1/canned-responses');
  const words = useStepWords(canned.items);
  const list = useList<Macro>('/api/v1/macros');
  const { error, run } = useSubmit();
  const blank = { name: '', shared: false, steps: [newStep('addLabels')] };
  const [form, setForm] = useState(blank);
  /** The macro being edited (the form below then saves it with PATCH), else null: the form adds one. */
  const [editing, setEditing] = useState<Macro | null>(null);
  const mayShare = me.role === 'admin' || me.role === 'manager';
  const mayChange = (m: Macro) => m.ownerId === me.id || (m.ownerId === null && mayShare);
  const edit = (m: Macro) => {
    setEditing(m);
    setForm({ name: m.name, shared: m.ownerId === null, steps: m.steps.map((s) => ({ ...s })) });
  };
  const done = () => {
    setEditing(null);
    setForm(blank);
    list.load();
  };
  return (
    <>
      <h2>Macros</h2>
      {list.error ? (
        <p className="muted">Macros are not available: {list.error}</p>
      ) : (
        <table className="wide">
          <TableHead cols={['Macro', 'Steps', 'For', '']} />
          <tbody>
            {list.items.map((m) => (
              <tr key={m.id}>
                <td>{m.name}</td>
                <td className="small">{m.steps.map(words).join(' → ')}</td>
                <td>{m.ownerId ? 'personal' : 'everyone'}</td>
                <td>
                  {mayChange(m) && (
                    <>
                      <button className="link" aria-label={`Edit macro ${m.name}`} onClick={() => edit(m)}>
                        Edit
                      </button>{' '}
                      <DeleteButton what={`macro ${m.name}`} path={`/api/v1/macros/${m.id}`} run={run} then={() => (editing?.id === m.id ? done() : list.load())} />
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddForm
        title={editing ? `Edit macro ${editing.name}` : undefined}
        error={error}
        submit={editing ? 'Save macro' : 'Add macro'}
        disabled={!form.steps.length}
        onSubmit={async () => {
          const body = { name: form.name, shared: form.shared, steps: cleanSteps(form.steps) };
          const ok = editing
            ? await run(`Saved macro ${form.name}`, () => api(`/api/v1/macros/${editing.id}`, { method: 'PATCH', body }))
            : await run(`Added macro ${form.name}`, () => api('/api/v1/macros', { method: 'POST', body }));
          if (ok) done();
        }}
      >
        {editing && (
          <button type="button" className="ghost" onClick={done}>
            Cancel editing
          </button>
        )}
        <label>
          Macro name <input value={form.name} maxLength={100} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        {mayShare && (
          <label className="inline">
            <input type="checkbox" checked={form.shared} onChange={(e) => setForm({ ...form, shared: e.target.checked })} /> Shared with everyone
          </label>
        )}
        <StepsEditor legend="Step" steps={form.steps} onChange={(steps) => setForm({ ...form, steps })} canned={form.shared ? canned.items.filter((c) => c.teamId) : canned.items} />
      </AddForm>
    </>
  );
}

function AutomationRules() {
  const team = useTeamName();
  const canned = useList<Canned>('/api/v1/canned-responses');
  const words = useStepWords(canned.items);
  const list = useList<AutomationRule>('/api/v1/automation/rules');
  const { error, run } = useSubmit();
  const blank = { name: '', event: 'message.received', keywords: '', teamId: '', labels: '', idleMinutes: 60, businessHours: '', actions: [newStep('addLabels')] };
  const [form, setForm] = useState(blank);
  /** The rule being edited (saved with PATCH; conditions the form does not show are kept), else null. */
  const [editing, setEditing] = useState<AutomationRule | null>(null);
  const edit = (r: AutomationRule) => {
    const c = r.conditions as { keywords?: string[]; teamIds?: string[]; labels?: string[]; idleMinutes?: number; businessHours?: string };
    setEditing(r);
    setForm({
      name: r.name,
      event: r.event,
      keywords: (c.keywords ?? []).join(', '),
      teamId: c.teamIds?.[0] ?? '',
      labels: (c.labels ?? []).join(', '),
      idleMinutes: c.idleMinutes ?? 60,
      businessHours: c.businessHours ?? '',
      actions: r.actions.map((a) => ({ ...a })),
    });
  };
  const done = () => {
    setEditing(null);
    setForm(blank);
    list.load();
  };
  const [dry, setDry] = useState({ conversationId: '', event: 'message.received', text: '' });
  const [dryResult, setDryResult] = useState<{ matches?: { ruleId: string; name: string; actions: Step[] }[]; error?: string } | null>(null);
  const conditionWords = (c: Record<string, unknown>) =>
    Object.entries(c)
      .map(([k, v]) => `${k}: ${k === 'teamIds' ? (v as string[]).map(team).join(', ') : Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? Object.entries(v as object).map(([a, b]) => `${a}=${String(b)}`).join(', ') : String(v)}`)
      .join('; ');
  async function save() {
    // conditions the form does not show (priorities, statuses, contact attributes, further teams) stay as they were
    const { keywords: _k, teamIds: _t, labels: _l, idleMinutes: _i, businessHours: _b, ...kept } = (editing?.conditions ?? {}) as Record<string, unknown>;
    const otherTeams = ((editing?.conditions.teamIds as string[] | undefined) ?? []).slice(1);
    const conditions = {
      ...kept,
      ...(csv(form.keywords).length ? { keywords: csv(form.keywords) } : {}),
      ...(form.teamId ? { teamIds: [form.teamId, ...otherTeams.filter((t) => t !== form.teamId)] } : {}),
      ...(csv(form.labels).length ? { labels: csv(form.labels) } : {}),
      ...(form.event === 'conversation.idle' ? { idleMinutes: Number(form.idleMinutes) } : {}),
      ...(form.businessHours ? { businessHours: form.businessHours } : {}),
    };
    const body = { name: form.name, event: form.event, conditions, actions: cleanSteps(form.actions) };
    const ok = editing
      ? await run(`Saved rule ${form.name}`, () => api(`/api/v1/automation/rules/${editing.id}`, { method: 'PATCH', body }))
      : await run(`Added rule ${form.name}`, () => api('/api/v1/automation/rules', { method: 'POST', body }));
    if (ok) done();
  }
  return (
    <>
      <h2>Automation rules</h2>
      {list.error ? (
        <p className="muted">Automation rules are not available: {list.error}</p>
      ) : (
        <table className="wide">
          <TableHead cols={['#', 'Rule', 'On', 'When', 'Then', 'Runs', 'Enabled', '']} />
          <tbody>
            {[...list.items]
              .sort((a, b) => a.position - b.position)
              .map((r) => (
                <tr key={r.id}>
                  <td>{r.position}</td>
                  <td>
                    {r.name}
                    {r.errorCount > 0 && <div className="error small">failed {r.errorCount}× — {r.lastError}</div>}
                    {r.loopsStopped > 0 && <div className="warn-text small">loop stopped {r.loopsStopped}×</div>}
                  </td>
                  <td>{r.event}</td>
                  <td className="small">{conditionWords(r.conditions) || 'always'}</td>
                  <td className="small">{r.actions.map(words).join(' → ')}</td>
                  <td>{r.runCount}</td>
                  <td>
                    <input type="checkbox" aria-label={`${r.name} enabled`} checked={r.enabled} onChange={(e) => void run(`${r.name} ${e.target.checked ? 'enabled' : 'disabled'}`, () => api(`/api/v1/automation/rules/${r.id}`, { method: 'PATCH', body: { enabled: e.target.checked } })).then(list.load)} />
                  </td>
                  <td>
                    <button className="link" aria-label={`Edit rule ${r.name}`} onClick={() => edit(r)}>
                      Edit
                    </button>{' '}
                    <DeleteButton what={`rule ${r.name}`} path={`/api/v1/automation/rules/${r.id}`} run={run} then={() => (editing?.id === r.id ? done() : list.load())} />
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
      <AddForm
        title={editing ? `Edit rule ${editing.name}` : 'Add an automation rule'}
        error={error}
        submit={editing ? 'Save rule' : 'Add rule'}
        disabled={!form.actions.length}
        onSubmit={() => void save()}
      >
        {editing && (
          <button type="button" className="ghost" onClick={done}>
            Cancel editing
          </button>
        )}
        <label>
          Rule name <input value={form.name} maxLength={100} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          On event
          <select value={form.event} onChange={(e) => setForm({ ...form, event: e.target.value })}>
            {EVENTS.map((ev) => (
              <option key={ev}>{ev}</option>
            ))}
          </select>
        </label>
        {form.event === 'conversation.idle' && (
          <label>
            Idle for (min) <input type="number" min={1} value={form.idleMinutes} onChange={(e) => setForm({ ...form, idleMinutes: Number(e.target.value) })} required />
          </label>
        )}
        <label>
          Text contains (comma-separated) <input value={form.keywords} onChange={(e) => setForm({ ...form, keywords: e.target.value })} />
        </label>
        <label>
          Team is
          <select value={form.teamId} onChange={(e) => setForm({ ...form, teamId: e.target.value })}>
            <option value="">any</option>
            <TeamOptions />
          </select>
        </label>
        <label>
          Has a label (comma-separated) <input value={form.labels} onChange={(e) => setForm({ ...form, labels: e.target.value })} />
        </label>
        <label>
          Business hours
          <select value={form.businessHours} onChange={(e) => setForm({ ...form, businessHours: e.target.value })}>
            <option value="">any time</option>
            <option value="open">inside</option>
            <option value="closed">outside</option>
          </select>
        </label>
        <StepsEditor legend="Action" withRuleActions steps={form.actions} onChange={(actions) => setForm({ ...form, actions })} canned={canned.items.filter((c) => c.teamId)} agentTeamId={form.teamId || undefined} />
      </AddForm>
      <form
        className="card form inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const body = { conversationId: dry.conversationId.trim(), event: dry.event, ...(dry.text.trim() ? { text: dry.text } : {}) };
            setDryResult(await api('/api/v1/automation/rules/dry-run', { method: 'POST', body }));
          } catch (err) {
            setDryResult({ error: err instanceof ApiError ? err.message : String(err) });
          }
        }}
      >
        <h2>Dry run</h2>
        <label>
          Conversation id <input value={dry.conversationId} onChange={(e) => setDry({ ...dry, conversationId: e.target.value })} required />
        </label>
        <label>
          Event
          <select aria-label="Dry-run event" value={dry.event} onChange={(e) => setDry({ ...dry, event: e.target.value })}>
            {EVENTS.map((ev) => (
              <option key={ev}>{ev}</option>
            ))}
          </select>
        </label>
        <label>
          Message text <input value={dry.text} onChange={(e) => setDry({ ...dry, text: e.target.value })} />
        </label>
        <button className="primary">Test the automation</button>
        {dryResult && (
          <div role="status" className="dry-run">
            {dryResult.error ? (
              <p className="error">{dryResult.error}</p>
            ) : dryResult.matches?.length ? (
              <ul>
                {dryResult.matches.map((m) => (
                  <li key={m.ruleId}>
                    {m.name}: {m.actions.map(words).join(' → ')}
                  </li>
                ))}
              </ul>
            ) : (
              <p>No rule would run.</p>
            )}
          </div>
        )}
      </form>
    </>
  );
}
