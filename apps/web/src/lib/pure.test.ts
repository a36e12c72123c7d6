import { countdown, contactName, since, initials } from './format';
import { composerMode, canEditWork } from './permissions';
import { conversation, ME, MANAGER } from '../test-utils';
import { isUnread, matches, slaSummary, upsert, DEFAULT_FILTERS } from '../inbox/listing';
import { toCsv } from '../dashboard/Dashboard';

describe('format', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('counts down, and says overdue once past', () => {
    expect(countdown('2026-01-01T14:05:00Z', now)).toBe('2h 05m');
    expect(countdown('2026-01-01T12:04:10Z', now)).toBe('4m 10s');
    expect(countdown('2026-01-01T11:57:00Z', now)).toBe('overdue 3m 00s');
    expect(countdown('2026-01-03T13:00:00Z', now)).toBe('2d 1h');
  });
  it('waiting times and names', () => {
    expect(since('2026-01-01T11:00:00Z', now)).toBe('1h');
    expect(contactName({ name: null, waId: '15550001', userId: null })).toBe('+15550001');
    expect(contactName({ name: '  ', waId: null, userId: 'US.123' })).toBe('US.123');
    expect(initials('Demo Agent (Ana, Sales)')).toBe('DA');
  });
});

describe('who may reply (composer)', () => {
  it('the owner sends; nobody owns → claim; a manager of the team → take over; another agent → locked, naming the owner', () => {
    expect(composerMode(ME, conversation())).toEqual({ mode: 'send' });
    expect(composerMode(ME, conversation({ owner: null }))).toEqual({ mode: 'claim' });
    expect(composerMode(MANAGER, conversation())).toEqual({ mode: 'takeover', owner: 'Ana' });
    const other = composerMode({ ...ME, id: 'u-ben' }, conversation());
    expect(other.mode).toBe('locked');
    expect(other.mode === 'locked' && other.reason).toContain('Ana owns this conversation');
    expect(composerMode({ ...ME, role: 'viewer', scopes: ['conversations:read'] }, conversation()).mode).toBe('locked');
    // a manager of another team cannot take over
    expect(composerMode({ ...MANAGER, teamIds: ['t-support'] }, conversation()).mode).toBe('locked');
  });
  it('edits: owner or a manager of the team', () => {
    expect(canEditWork(ME, conversation())).toBe(true);
    expect(canEditWork({ ...ME, id: 'u-ben' }, conversation())).toBe(false);
    expect(canEditWork(MANAGER, conversation({ owner: { id: 'u-ben', name: 'Ben' } }))).toBe(true);
  });
});

describe('list maintenance', () => {
  it('decides membership per view and filter', () => {
    const f = { ...DEFAULT_FILTERS, status: '' };
    expect(matches(ME, { ...f, view: 'mine' }, conversation())).toBe(true);
    expect(matches(ME, { ...f, view: 'mine' }, conversation({ owner: null }))).toBe(false);
    expect(matches(ME, { ...f, view: 'unassigned' }, conversation({ owner: null }))).toBe(true);
    expect(matches(ME, { ...f, view: 'team' }, conversation({ team: { id: 't-other', name: 'x' } }))).toBe(false);
    expect(matches(ME, { ...f, view: 'all', status: 'open' }, conversation({ status: 'resolved' }))).toBe(false);
    expect(matches(ME, { ...f, view: 'all', label: 'vip' }, conversation({ labels: ['VIP'] }))).toBe(true);
    const clock = (state: 'ok' | 'warning' | 'breached' | 'met', dueAt = '2026-01-01T10:00:00Z') => ({ startedAt: '', dueAt, warnAt: null, state, paused: false, breachedAt: null, metAt: null });
    const atRisk = conversation({ sla: { firstResponse: clock('warning'), nextResponse: null, resolution: clock('ok') } });
    expect(matches(ME, { ...f, view: 'all', sla: 'at-risk' }, atRisk)).toBe(true);
    expect(matches(ME, { ...f, view: 'all', sla: 'breached' }, atRisk)).toBe(false);
    expect(matches(ME, { ...f, view: 'all', sla: 'at-risk' }, conversation())).toBe(false);
    // the worst running clock counts; met clocks are done
    expect(slaSummary({ sla: { firstResponse: clock('breached'), nextResponse: null, resolution: clock('ok') } })).toMatchObject({ state: 'breached', clock: 'First response' });
    expect(slaSummary({ sla: { firstResponse: clock('met'), nextResponse: null, resolution: null } })).toBeNull();
    expect(slaSummary({ sla: null })).toBeNull();
  });
  it('keeps newest activity first and replaces in place', () => {
    const a = conversation({ id: 'a', lastMessageAt: '2026-01-01T10:00:00Z' });
    const b = conversation({ id: 'b', lastMessageAt: '2026-01-01T11:00:00Z' });
    let list = upsert(upsert([], a), b);
    expect(list.map((c) => c.id)).toEqual(['b', 'a']);
    list = upsert(list, { ...a, lastMessageAt: '2026-01-01T12:00:00Z' });
    expect(list.map((c) => c.id)).toEqual(['a', 'b']);
  });
  it('unread when the customer wrote after the last look', () => {
    const c = conversation({ lastInboundAt: '2026-01-01T10:00:00Z' });
    expect(isUnread(c, {})).toBe(true);
    expect(isUnread(c, { [c.id]: '2026-01-01T10:00:01Z' })).toBe(false);
    expect(isUnread({ ...c, lastInboundAt: null }, {})).toBe(false);
  });
});

describe('CSV export', () => {
  it('quotes cells and defuses formulas', () => {
    expect(toCsv([['a,b', '=HYPERLINK("x")', 'plain', 3]])).toBe('"a,b","\'=HYPERLINK(""x"")",plain,3');
  });
});
