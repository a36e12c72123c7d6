import { buildCalendar } from '../hours/calendar';
import { episodesOf, type ConversationFacts } from './episodes';
import { decodeCursor, encodeCursor } from './report-filter';

const t = (s: string) => new Date(`2026-11-02T${s}:00Z`); // a Monday
const MIN = 60_000;

describe('episodesOf (docs/METRICS.md, Episode)', () => {
  const facts: ConversationFacts = {
    // reopened at 14:00 after a resolve at 12:00; facts deliberately out of order
    opens: [{ at: t('14:00'), phoneNumberId: 'n' }, { at: t('09:00'), phoneNumberId: 'n' }],
    replies: [{ at: t('14:30'), senderId: 'b' }, { at: t('09:20'), senderId: 'a' }, { at: t('09:40'), senderId: 'b' }, { at: t('08:00'), senderId: 'x' }],
    resolves: [{ at: t('12:00'), resolvedBy: 'a' }],
    states: [
      { at: t('09:00'), version: 1, teamId: 'sales', ownerId: 'a' },
      { at: t('13:00'), version: 3, teamId: 'support', ownerId: null },
      { at: t('11:00'), version: 2, teamId: 'sales', ownerId: 'c' },
    ],
  };

  it('splits at each opening; first reply and resolve inside; team and resolver at the end', () => {
    const [first, second] = episodesOf(facts, () => null);
    expect(first).toMatchObject({ openedAt: t('09:00'), teamId: 'sales', responderId: 'a', frtMs: 20 * MIN, resolvedAt: t('12:00'), resolverId: 'c', resolutionMs: 3 * 60 * MIN });
    expect(second).toMatchObject({ openedAt: t('14:00'), teamId: 'support', responderId: 'b', frtMs: 30 * MIN, resolvedAt: null, resolutionMs: null });
  });

  it('counts business time only inside the team calendar', () => {
    const cal = buildCalendar({ timeZone: 'UTC', weekly: [{ day: 'mon', open: '09:10', close: '17:00' }], holidays: [] });
    const [first] = episodesOf(facts, (team) => (team === 'sales' ? cal : null));
    expect(first.frtBusinessMs).toBe(10 * MIN);
    expect(first.resolutionBusinessMs).toBe((2 * 60 + 50) * MIN);
  });
});

describe('report cursors', () => {
  it('keep the database timestamp exactly and refuse anything else', () => {
    const c = encodeCursor('2026-11-02 09:00:00.123456+00', '0e1f4d1c-7b7a-4a50-9d0b-5f1c2a3b4c5d');
    expect(decodeCursor(c)).toEqual(['2026-11-02 09:00:00.123456+00', '0e1f4d1c-7b7a-4a50-9d0b-5f1c2a3b4c5d']);
    expect(decodeCursor(Buffer.from(JSON.stringify(["1'; DROP TABLE x", 'y'])).toString('base64url'))).toBeNull();
    expect(decodeCursor('not-base64-json')).toBeNull();
  });
});
