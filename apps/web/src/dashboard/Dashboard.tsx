import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, qs } from '../lib/api';
import { useApp, useNow } from '../lib/context';
import { contactName, countdown, since } from '../lib/format';
import { navigate } from '../lib/router';
import type { Conversation, Page } from '../lib/types';
import { slaState, slaSummary } from '../inbox/listing';
import { CsatPanel } from './Csat';
import { Reports } from './Reports';

const MAX = 1000;

/** CSV with quoted cells (a cell starting with = + - @ is prefixed so spreadsheets do not run it). */
export function toCsv(rows: (string | number)[][]): string {
  return rows
    .map((r) =>
      r
        .map((v) => {
          let s = String(v);
          if (/^[=+\-@]/.test(s)) s = `'${s}`;
          return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
        })
        .join(','),
    )
    .join('\n');
}

/**
 * The manager's view of the open work they can see: agent load, team queues, longest waiting, SLA at risk and
 * windows closing soon; reassign (one or many) from here. Built from the conversations API (first 1000 open).
 */
export function Dashboard() {
  const { dir, toast, me } = useApp();
  const now = useNow(5000);
  const [items, setItems] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkTo, setBulkTo] = useState('');
  const [who, setWho] = useState('');
  const [agentInfo, setAgentInfo] = useState<Map<string, { status: string; maxOpen: number | null }>>(new Map());

  const load = useCallback(async () => {
    try {
      const all: Conversation[] = [];
      let cursor: string | null = null;
      do {
        const page: Page<Conversation> = await api<Page<Conversation>>(`/api/v1/conversations${qs({ view: 'all', status: 'open', limit: 200, cursor })}`);
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && all.length < MAX);
      setItems(all);
      setError(null);
      // availability and capacity from routing, when it has them
      api<{ items: { userId: string; status: string; maxOpen: number | null }[] }>('/api/v1/agents')
        .then((r) => setAgentInfo(new Map(r.items.map((a) => [a.userId, a]))))
        .catch(() => undefined);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const { rt } = useApp();
  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | null = null;
    return rt.on((f) => {
      if ((f.type === 'event' || f.type === 'dashboard.changed') && !t) t = setTimeout(() => ((t = null), void load()), 500);
    });
  }, [rt, load]);

  const load_ = useMemo(() => {
    const byAgent = new Map<string, { id: string; name: string; open: number; waiting: number }>();
    for (const u of dir.users.values()) if (!u.disabled && u.role !== 'viewer') byAgent.set(u.id, { id: u.id, name: u.name, open: 0, waiting: 0 });
    const byTeam = new Map<string, { name: string; unassigned: number; withBot: number; open: number }>();
    for (const c of items ?? []) {
      if (c.owner) {
        const a = byAgent.get(c.owner.id) ?? { id: c.owner.id, name: c.owner.name ?? '?', open: 0, waiting: 0 };
        a.open++;
        if (c.lastInboundAt && (!c.lastMessageAt || c.lastInboundAt >= c.lastMessageAt)) a.waiting++;
        byAgent.set(c.owner.id, a);
      }
      const key = c.team?.id ?? '';
      const t = byTeam.get(key) ?? { name: c.team?.name ?? 'No team', unassigned: 0, withBot: 0, open: 0 };
      t.open++;
      // a conversation a bot holds is in no queue (routing skips it): counted apart, as the server's dashboard does
      if (c.bot) t.withBot++;
      else if (!c.owner) t.unassigned++;
      byTeam.set(key, t);
    }
    return { agents: [...byAgent.values()].sort((a, b) => b.open - a.open), teams: [...byTeam.values()] };
  }, [items, dir.users]);

  async function takeover(c: Conversation) {
    if (!confirm(`Take over ${contactName(c.contact)} from ${c.owner?.name}?`)) return;
    try {
      await api(`/api/v1/conversations/${c.id}/takeover`, { method: 'POST', body: { version: c.version } });
      navigate(`/c/${c.id}`);
    } catch (e) {
      toast(`Take over failed: ${e instanceof ApiError ? e.message : e}`, 'error');
      await load();
    }
  }

  async function reassign(ids: string[], assigneeId: string | null) {
    let ok = 0;
    for (const id of ids) {
      const c = items?.find((x) => x.id === id);
      if (!c) continue;
      try {
        await api(`/api/v1/conversations/${id}/assign`, { method: 'POST', body: { version: c.version, assigneeId } });
        ok++;
      } catch (e) {
        toast(`${contactName(c.contact)}: ${e instanceof ApiError ? e.message : e}`, 'error');
      }
    }
    if (ok) toast(`Reassigned ${ok} conversation${ok > 1 ? 's' : ''}.`);
    setSelected(new Set());
    await load();
  }

  function exportCsv() {
    const rows: (string | number)[][] = [['conversation', 'contact', 'owner', 'team', 'priority', 'waiting since', 'window ends', 'sla']];
    for (const c of items ?? []) rows.push([c.id, contactName(c.contact), c.owner?.name ?? '', c.team?.name ?? '', c.priority, c.lastInboundAt ?? '', c.window.endsAt ?? '', slaState(c) ?? '']);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv' }));
    a.download = `switchboard-open-${new Date().toISOString().slice(0, 10)}.csv`;
    a.click();
  }

  if (error)
    return (
      <main className="page">
        <p className="error" role="alert">
          {error}
        </p>
        <button onClick={() => void load()}>Retry</button>
      </main>
    );
  if (!items) return <main className="page muted">Loading…</main>;

  const waiting = items.filter((c) => c.lastInboundAt && (!c.lastMessageAt || c.lastInboundAt >= c.lastMessageAt)).sort((a, b) => Date.parse(a.lastInboundAt!) - Date.parse(b.lastInboundAt!));
  const closing = items.filter((c) => c.window.open && c.window.endsAt && Date.parse(c.window.endsAt) - now < 4 * 3600_000).sort((a, b) => Date.parse(a.window.endsAt!) - Date.parse(b.window.endsAt!));
  const atRisk = items.filter((c) => ['warning', 'breached'].includes(slaState(c) ?? ''));
  const agents = [...dir.users.values()].filter((u) => !u.disabled && u.role !== 'viewer');
  const maxOpen = Math.max(1, ...load_.agents.map((a) => a.open));

  const row = (c: Conversation, extra: string) => (
    <tr key={c.id}>
      <td>
        <input type="checkbox" aria-label={`Select ${contactName(c.contact)}`} checked={selected.has(c.id)} onChange={(e) => setSelected((s) => { const n = new Set(s); if (e.target.checked) n.add(c.id); else n.delete(c.id); return n; })} />
      </td>
      <td>
        <a href={`/c/${c.id}`} onClick={(e) => (e.preventDefault(), navigate(`/c/${c.id}`))}>
          {contactName(c.contact)}
        </a>
      </td>
      <td>{c.team?.name ?? '—'}</td>
      <td>{extra}</td>
      <td>
        <select aria-label={`Owner of ${contactName(c.contact)}`} value={c.owner?.id ?? ''} onChange={(e) => void reassign([c.id], e.target.value || null)}>
          <option value="">Unassigned</option>
          {agents.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name}
            </option>
          ))}
        </select>
      </td>
      <td>
        {c.owner && c.owner.id !== me.id && (
          <button className="link" onClick={() => void takeover(c)}>
            Take over
          </button>
        )}
      </td>
    </tr>
  );

  return (
    <main className="page dashboard">
      <div className="row">
        <h1>Dashboard</h1>
        <span className="spacer" />
        <span className="muted small">{items.length} open conversations{items.length >= MAX ? ' (first 1000)' : ''}</span>
        <button onClick={exportCsv}>Export CSV</button>
      </div>
      <div className="cards">
        <StatTable
          title="Agent load"
          head={['Agent', 'Status', 'Open', 'Awaiting reply']}
          rows={load_.agents.map((a) => ({
            key: a.id,
            cells: [a.name, agentInfo.get(a.id)?.status ?? '—', agentInfo.get(a.id)?.maxOpen ? `${a.open} / ${agentInfo.get(a.id)!.maxOpen}` : a.open, a.waiting],
            bar: a.open / maxOpen,
          }))}
        />
        <StatTable
          title="Team queues"
          head={['Team', 'Unassigned', 'With a bot', 'Open']}
          rows={load_.teams.map((t) => ({ key: t.name, cells: [t.name, t.unassigned, t.withBot, t.open] }))}
        />
      </div>
      <Reports />
      <CsatPanel />
      {selected.size > 0 && (
        <div className="banner info row">
          {selected.size} selected — reassign to
          <select aria-label="Bulk reassign to" value={bulkTo} onChange={(e) => setBulkTo(e.target.value)}>
            <option value="">Unassigned</option>
            {agents.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
          <button className="primary" onClick={() => void reassign([...selected], bulkTo || null)}>
            Reassign
          </button>
        </div>
      )}
      {atRisk.length > 0 && <WorkList title="SLA at risk or breached" empty="" rows={atRisk.map((c) => row(c, `${slaSummary(c)!.clock} ${slaState(c) === 'breached' ? 'breached' : 'at risk'}${slaSummary(c)!.dueAt ? ` · ${countdown(slaSummary(c)!.dueAt, now)}` : ''}`))} />}
      <section className="card" aria-label="Open conversations">
        <div className="row">
          <h2>Open conversations</h2>
          <span className="spacer" />
          <select aria-label="Show conversations of" value={who} onChange={(e) => setWho(e.target.value)}>
            <option value="">Everyone</option>
            <option value="none">Unassigned</option>
            {agents.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
        <table className="wide">
          <tbody>
            {items
              .filter((c) => (who === '' ? true : who === 'none' ? !c.owner : c.owner?.id === who))
              .slice(0, 200)
              .map((c) => row(c, c.priority !== 'normal' ? `${c.priority} priority` : c.lastInboundAt ? `customer wrote ${since(c.lastInboundAt, now)} ago` : ''))}
          </tbody>
        </table>
      </section>
      <WorkList title="Waiting longest for a reply" empty="Nobody is waiting." rows={waiting.slice(0, 50).map((c) => row(c, `waiting ${since(c.lastInboundAt, now)}`))} />
      <WorkList title="WhatsApp windows closing within 4 hours" empty="None." rows={closing.slice(0, 50).map((c) => row(c, `closes in ${countdown(c.window.endsAt, now)}`))} />
    </main>
  );
}

function StatTable({ title, head, rows }: { title: string; head: string[]; rows: { key: string; cells: (string | number)[]; bar?: number }[] }) {
  return (
    <section className="card">
      <h2>{title}</h2>
      <table>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h}>{h}</th>
            ))}
            {rows.some((r) => r.bar !== undefined) && <th aria-hidden="true" />}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              {r.cells.map((c, i) => (
                <td key={i}>{c}</td>
              ))}
              {r.bar !== undefined && (
                <td className="bar-cell" aria-hidden="true">
                  <span className="bar" style={{ width: `${r.bar * 100}%` }} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function WorkList({ title, empty, rows }: { title: string; empty: string; rows: ReactNode[] }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table className="wide">
          <tbody>{rows}</tbody>
        </table>
      )}
    </section>
  );
}
