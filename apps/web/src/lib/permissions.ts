import type { Conversation, Me } from './types';

/** Mirrors routing's rules so the UI offers only what the server will allow (the server still decides). */
export function managesTeam(me: Me, teamId: string | null): boolean {
  if (me.role === 'admin') return true;
  return me.role === 'manager' && (teamId === null || me.teamIds.includes(teamId));
}

export function canWrite(me: Me): boolean {
  return me.role !== 'viewer' && me.scopes.includes('conversations:write');
}

export function canEditWork(me: Me, c: Conversation): boolean {
  return canWrite(me) && (c.owner?.id === me.id || managesTeam(me, c.team?.id ?? null));
}

export type ComposerMode =
  | { mode: 'send' }
  | { mode: 'claim' }
  | { mode: 'takeover'; owner: string }
  | { mode: 'takeback'; bot: string }
  | { mode: 'locked'; reason: string };

/**
 * Who may type a reply: only the owner. Others see why, and Claim (unowned) or Take over (managers). A conversation
 * a bot holds has no owner: anyone who may write takes it back from the bot first (routing refuses a claim there).
 */
export function composerMode(me: Me, c: Conversation): ComposerMode {
  if (!canWrite(me) || !me.scopes.includes('messages:send')) return { mode: 'locked', reason: 'Your role can read conversations but not reply.' };
  if (c.bot) return { mode: 'takeback', bot: botName(c.bot) };
  if (c.owner?.id === me.id) return { mode: 'send' };
  if (!c.owner) return { mode: 'claim' };
  const owner = c.owner.name ?? 'someone else';
  if (managesTeam(me, c.team?.id ?? null)) return { mode: 'takeover', owner };
  return { mode: 'locked', reason: `${owner} owns this conversation. Only the owner can reply; ask them or a manager to hand it off.` };
}

export function botName(bot: { id: string; name: string | null }): string {
  return bot.name ?? `bot ${bot.id.slice(0, 8)}`;
}

export function isManager(me: Me): boolean {
  return me.role === 'admin' || me.role === 'manager';
}
