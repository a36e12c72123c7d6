import type { Actor } from './routing.requests';

/**
 * Who may see a conversation, given its team and owner: admins (and API keys, which act organisation-wide)
 * everything; everyone else the conversations of their teams, the unassigned-team queue, and those they own.
 * Routing enforces it on every request; the gateway's real-time feed applies the same rule to every event.
 */
export function canSeeConversation(a: Pick<Actor, 'id' | 'role' | 'teamIds'>, w: { teamId: string | null; ownerId: string | null }): boolean {
  if (a.role === 'admin') return true;
  return w.teamId === null || a.teamIds.includes(w.teamId) || (w.ownerId !== null && w.ownerId === a.id);
}
