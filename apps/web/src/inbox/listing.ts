import type { Conversation, Me, SlaState } from '../lib/types';

export type View = 'mine' | 'unassigned' | 'team' | 'all';
export interface Filters {
  view: View;
  status: string;
  teamId: string;
  label: string;
  sla: string;
  q: string;
}

export const DEFAULT_FILTERS: Filters = { view: 'mine', status: 'open', teamId: '', label: '', sla: '', q: '' };

/** Whether a conversation (as fetched after a live event) belongs in the list the user is looking at. */
export function matches(me: Me, f: Filters, c: Conversation): boolean {
  if (f.view === 'mine' && c.owner?.id !== me.id) return false;
  if (f.view === 'unassigned' && (c.owner || c.bot)) return false;
  if (f.view === 'team' && !(c.team && me.teamIds.includes(c.team.id))) return false;
  if (f.status && c.status !== f.status) return false;
  if (f.teamId && c.team?.id !== f.teamId) return false;
  if (f.label && !c.labels.some((l) => l.toLowerCase() === f.label.toLowerCase())) return false;
  if (f.sla === 'at-risk' && slaState(c) !== 'warning') return false;
  if (f.sla === 'breached' && slaState(c) !== 'breached') return false;
  if (f.sla === 'due-soonest' && !slaSummary(c)) return false;
  return true;
}

export type SlaSummary = { state: 'ok' | 'warning' | 'breached'; dueAt: string | null; clock: string };
const CLOCK_NAMES: [keyof SlaState, string][] = [
  ['firstResponse', 'First response'],
  ['nextResponse', 'Next response'],
  ['resolution', 'Resolution'],
];
const RANK = { ok: 0, warning: 1, breached: 2 } as const;

/** The worst running SLA clock of a conversation (met clocks are done), or null when none runs. */
export function slaSummary(c: Pick<Conversation, 'sla'>): SlaSummary | null {
  let worst: SlaSummary | null = null;
  for (const [key, clock] of CLOCK_NAMES) {
    const k = c.sla?.[key];
    if (!k || k.state === 'met') continue;
    const cand: SlaSummary = { state: k.state, dueAt: k.dueAt, clock };
    if (!worst || RANK[cand.state] > RANK[worst.state] || (RANK[cand.state] === RANK[worst.state] && (cand.dueAt ?? '9') < (worst.dueAt ?? '9'))) worst = cand;
  }
  return worst;
}

export function slaState(c: Pick<Conversation, 'sla'>): SlaSummary['state'] | null {
  return slaSummary(c)?.state ?? null;
}

export const SLA_LABEL: Record<SlaSummary['state'], string> = { ok: 'On track', warning: 'At risk', breached: 'Breached' };

export function activityAt(c: Conversation): number {
  return Date.parse(c.lastMessageAt ?? c.openedAt);
}

/** Inserts or replaces, newest activity first (the server's order). */
export function upsert(list: Conversation[], c: Conversation): Conversation[] {
  const rest = list.filter((x) => x.id !== c.id);
  const at = activityAt(c);
  const i = rest.findIndex((x) => activityAt(x) < at || (activityAt(x) === at && x.id < c.id));
  if (i === -1) return [...rest, c];
  return [...rest.slice(0, i), c, ...rest.slice(i)];
}

/** Unread: the customer wrote after the user last opened the conversation. */
export function isUnread(c: Conversation, seen: Record<string, string>): boolean {
  if (!c.lastInboundAt) return false;
  const s = seen[c.id];
  return !s || Date.parse(c.lastInboundAt) > Date.parse(s);
}
