import { businessTimeBetween, type Calendar } from '../hours/calendar';

/** The facts of one conversation the episodes are computed from (docs/METRICS.md, "Episode"). */
export interface ConversationFacts {
  opens: { at: Date; phoneNumberId: string }[];
  /** Outbound messages sent by a person or API key (a system send is no response). */
  replies: { at: Date; senderId: string }[];
  resolves: { at: Date; resolvedBy: string | null }[];
  /** Work states (team, owner) in routing's version order. */
  states: { at: Date; version: number; teamId: string | null; ownerId: string | null }[];
}

export interface Episode {
  openedAt: Date;
  phoneNumberId: string;
  teamId: string | null;
  firstResponseAt: Date | null;
  responderId: string | null;
  frtMs: number | null;
  frtBusinessMs: number | null;
  resolvedAt: Date | null;
  resolverId: string | null;
  resolutionMs: number | null;
  resolutionBusinessMs: number | null;
}

const byTime = <T extends { at: Date }>(xs: T[]) => [...xs].sort((a, b) => a.at.getTime() - b.at.getTime());

/** The last work state recorded at or before `at` (by time, then version). */
function stateAt(states: ConversationFacts['states'], at: number): ConversationFacts['states'][number] | null {
  let best: ConversationFacts['states'][number] | null = null;
  for (const s of states)
    if (s.at.getTime() <= at && (!best || s.at.getTime() > best.at.getTime() || (s.at.getTime() === best.at.getTime() && s.version > best.version))) best = s;
  return best;
}

/**
 * An episode runs from an opening (new or reopened) to the next opening. Its first response is the earliest reply
 * by a person inside it, its resolution the earliest resolve inside it. Its team is the conversation's team at the
 * episode's end (the resolution, else the next opening, else its latest state). Business figures use `calendarOf`
 * (the team's calendar; null = around the clock). Order of arrival of the facts does not matter.
 */
export function episodesOf(f: ConversationFacts, calendarOf: (teamId: string | null) => Calendar | null): Episode[] {
  const opens = byTime(f.opens);
  const replies = byTime(f.replies);
  const resolves = byTime(f.resolves);
  return opens.map((o, i) => {
    const start = o.at.getTime();
    const end = i + 1 < opens.length ? opens[i + 1].at.getTime() : Infinity;
    const inside = (t: Date) => t.getTime() >= start && t.getTime() < end;
    const reply = replies.find((r) => inside(r.at)) ?? null;
    const resolve = resolves.find((r) => inside(r.at)) ?? null;
    const closeAt = resolve ? resolve.at.getTime() : end === Infinity ? Number.MAX_SAFE_INTEGER : end - 1;
    const teamId = stateAt(f.states, closeAt)?.teamId ?? null;
    const cal = calendarOf(teamId);
    const resolver = resolve ? (stateAt(f.states, resolve.at.getTime())?.ownerId ?? resolve.resolvedBy) : null;
    return {
      openedAt: o.at,
      phoneNumberId: o.phoneNumberId,
      teamId,
      firstResponseAt: reply?.at ?? null,
      responderId: reply?.senderId ?? null,
      frtMs: reply ? reply.at.getTime() - start : null,
      frtBusinessMs: reply ? businessTimeBetween(cal, start, reply.at.getTime()) : null,
      resolvedAt: resolve?.at ?? null,
      resolverId: resolver,
      resolutionMs: resolve ? resolve.at.getTime() - start : null,
      resolutionBusinessMs: resolve ? businessTimeBetween(cal, start, resolve.at.getTime()) : null,
    };
  });
}
