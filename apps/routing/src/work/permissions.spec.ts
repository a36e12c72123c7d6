import type { Actor } from '@app/contracts';
import { canEditWork, canOwn, canSee, canWrite, isOwner, managesTeam } from './permissions';

const SALES = '00000000-0000-4000-8000-000000000001';
const SUPPORT = '00000000-0000-4000-8000-000000000002';
const ME = '00000000-0000-4000-8000-0000000000aa';
const OTHER = '00000000-0000-4000-8000-0000000000bb';
const user = (role: Actor['role'], teamIds: string[], id = ME): Actor => ({ type: 'user', id, name: null, role, teamIds });

describe('routing permissions', () => {
  it('an agent of Sales sees Sales, the unassigned-team queue and what they own — not Support', () => {
    const a = user('agent', [SALES]);
    expect(canSee(a, { teamId: SALES, ownerId: null })).toBe(true);
    expect(canSee(a, { teamId: null, ownerId: null })).toBe(true);
    expect(canSee(a, { teamId: SUPPORT, ownerId: null })).toBe(false);
    expect(canSee(a, { teamId: SUPPORT, ownerId: OTHER })).toBe(false);
    expect(canSee(a, { teamId: SUPPORT, ownerId: ME })).toBe(true);
  });

  it('a manager intervenes only in their teams; an admin everywhere', () => {
    expect(managesTeam(user('manager', [SALES]), SALES)).toBe(true);
    expect(managesTeam(user('manager', [SALES]), SUPPORT)).toBe(false);
    expect(managesTeam(user('agent', [SALES]), SALES)).toBe(false);
    expect(managesTeam(user('admin', []), SUPPORT)).toBe(true);
    expect(canSee(user('admin', []), { teamId: SUPPORT, ownerId: OTHER })).toBe(true);
  });

  it('a viewer reads but changes nothing, even what they could otherwise edit', () => {
    const v = user('viewer', [SALES]);
    expect(canSee(v, { teamId: SALES, ownerId: null })).toBe(true);
    expect(canWrite(v)).toBe(false);
    expect(canEditWork(v, { teamId: SALES, ownerId: ME })).toBe(false);
    expect(canOwn(v)).toBe(false);
  });

  it('only the owner or a manager edits the work state; API keys never own', () => {
    expect(canEditWork(user('agent', [SALES]), { teamId: SALES, ownerId: ME })).toBe(true);
    expect(canEditWork(user('agent', [SALES]), { teamId: SALES, ownerId: OTHER })).toBe(false);
    expect(canEditWork(user('manager', [SALES], OTHER), { teamId: SALES, ownerId: ME })).toBe(true);
    expect(canOwn({ type: 'api_key', id: 'k', name: 'k', role: 'admin', teamIds: [] })).toBe(false);
    // a bot holds conversations (conversation_work.bot_id), it never owns one: it cannot claim or take back
    expect(canOwn({ type: 'bot', id: 'k', name: 'Helper bot', role: 'admin', teamIds: [] })).toBe(false);
    expect(isOwner({ type: 'bot', id: ME, name: 'Helper bot', role: 'admin', teamIds: [] }, { teamId: SALES, ownerId: ME })).toBe(false);
  });
});
