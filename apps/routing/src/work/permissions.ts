import { canSeeConversation, type Actor } from '@app/contracts';

/** The part of a work item that permissions look at. */
export interface Scoped {
  teamId: string | null;
  ownerId: string | null;
}

/**
 * Who may see and do what (enforced here, on the server, for every request):
 * - admin (and API keys, which act organisation-wide within their scopes): everything;
 * - manager: sees and intervenes (assign, takeover, status, …) in their teams and the unassigned-team queue;
 * - agent: sees conversations of their teams, the unassigned-team queue and those they own; acts on those they
 *   own, claims unassigned ones, hands off their own;
 * - viewer: sees like an agent, changes nothing.
 * A conversation the actor may not see is reported as not found.
 */
export function canSee(a: Actor, w: Scoped): boolean {
  return canSeeConversation(a, w);
}

export function canWrite(a: Actor): boolean {
  return a.role !== 'viewer';
}

/** Manager of the conversation's team (or of the unassigned-team queue), or admin. */
export function managesTeam(a: Actor, teamId: string | null): boolean {
  if (a.role === 'admin') return true;
  return a.role === 'manager' && (teamId === null || a.teamIds.includes(teamId));
}

export function isOwner(a: Actor, w: Scoped): boolean {
  return a.type === 'user' && w.ownerId !== null && w.ownerId === a.id;
}

/** Status, labels, priority: the owner, or a manager of the team. */
export function canEditWork(a: Actor, w: Scoped): boolean {
  return canWrite(a) && (isOwner(a, w) || managesTeam(a, w.teamId));
}

/** Only people own conversations (an API key cannot be the owner). */
export function canOwn(a: Actor): boolean {
  return a.type === 'user' && canWrite(a);
}
