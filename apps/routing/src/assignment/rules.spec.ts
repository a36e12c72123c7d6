import { containsKeyword, firstMatch, matches, type RouteContext, type StoredRule } from './rules';

const ctx = (over: Partial<RouteContext> = {}): RouteContext => ({
  phoneNumberId: '1555',
  contact: { returning: false, labels: ['VIP'], attributes: { language: 'de-AT', tier: 'Gold' } },
  message: { type: 'text', text: 'Mein Gerät ist kaputt, bitte Hilfe!', referral: { source_id: 'ad-7', source_type: 'ad' } },
  ...over,
});
const never = async () => {
  throw new Error('business hours must not be asked');
};
const at = new Date('2026-11-25T22:30:00Z'); // a Wednesday

describe('routing rules (pure evaluation)', () => {
  it('keywords match whole words and phrases, case-insensitive, across scripts', () => {
    expect(containsKeyword('Mein Gerät ist KAPUTT!', 'kaputt')).toBe(true);
    expect(containsKeyword('unhelpful answer', 'help')).toBe(false);
    expect(containsKeyword('it is not working at all', 'not working')).toBe(true);
    expect(containsKeyword('Gerät defekt', 'gerät')).toBe(true);
    expect(containsKeyword('price (a+b)?', 'a+b')).toBe(true);
  });

  it('every given condition must hold; unknown facts never match', async () => {
    expect(await matches({ keywords: ['kaputt'], contactLabels: ['vip'], languages: ['de'], referral: true, referralSourceIds: ['ad-7'] }, {}, ctx(), at, never)).toBe(true);
    expect(await matches({ contactAttributes: { tier: 'gold' } }, {}, ctx(), at, never)).toBe(true);
    expect(await matches({ contactAttributes: { tier: 'silver' } }, {}, ctx(), at, never)).toBe(false);
    expect(await matches({ contact: 'returning' }, {}, ctx(), at, never)).toBe(false);
    expect(await matches({ contact: 'new' }, {}, ctx({ contact: {} }), at, never)).toBe(false); // unknown
    expect(await matches({ contactLabels: ['vip'] }, {}, ctx({ contact: {} }), at, never)).toBe(false); // no labels
    expect(await matches({ messageTypes: ['image'] }, {}, ctx(), at, never)).toBe(false);
    expect(await matches({ referral: false }, {}, ctx(), at, never)).toBe(false);
    expect(await matches({ phoneNumberIds: ['999'] }, {}, ctx(), at, never)).toBe(false);
  });

  it('time of day in a time zone, spanning midnight, with weekdays', async () => {
    // 22:30 UTC = 23:30 in Berlin (winter)
    expect(await matches({ timeOfDay: { from: '18:00', to: '08:00', timeZone: 'Europe/Berlin' } }, {}, ctx(), at, never)).toBe(true);
    expect(await matches({ timeOfDay: { from: '08:00', to: '18:00', timeZone: 'Europe/Berlin' } }, {}, ctx(), at, never)).toBe(false);
    expect(await matches({ timeOfDay: { from: '18:00', to: '08:00', timeZone: 'Europe/Berlin', days: [0, 6] } }, {}, ctx(), at, never)).toBe(false);
    expect(await matches({ timeOfDay: { from: '18:00', to: '08:00', timeZone: 'Europe/Berlin', days: [3] } }, {}, ctx(), at, never)).toBe(true);
  });

  it('languages: the message’s detected language first, else the contact’s `language` attribute; regional codes match their language', async () => {
    const msg = (language: string | null | undefined) => ({ type: 'text', text: 'x', language });
    // detected Spanish wins over the contact's de-AT
    expect(await matches({ languages: ['es'] }, {}, ctx({ message: msg('es') }), at, never)).toBe(true);
    expect(await matches({ languages: ['de'] }, {}, ctx({ message: msg('es') }), at, never)).toBe(false);
    // nothing detected (null, or an older event without the field): the attribute decides, de-AT counting as de
    expect(await matches({ languages: ['de'] }, {}, ctx({ message: msg(null) }), at, never)).toBe(true);
    expect(await matches({ languages: ['DE'] }, {}, ctx({ message: msg(undefined) }), at, never)).toBe(true);
    expect(await matches({ languages: ['es'] }, {}, ctx({ message: msg(null) }), at, never)).toBe(false);
    // neither known: no match
    expect(await matches({ languages: ['de'] }, {}, ctx({ message: msg(null), contact: { attributes: {} } }), at, never)).toBe(false);
  });

  it('the first enabled matching rule wins; a rule that fails to evaluate is skipped with its reason', async () => {
    const rule = (id: string, c: StoredRule['conditions'], enabled = true): StoredRule => ({ id, name: id, position: 0, enabled, conditions: c, actions: { teamId: id } });
    const rules = [rule('off', {}, false), rule('hours', { businessHours: { state: 'closed' } }), rule('kw', { keywords: ['kaputt'] }), rule('all', {})];
    const out = await firstMatch(rules, ctx(), at, async () => {
      throw new Error('sla did not answer');
    });
    expect(out.rule?.id).toBe('kw');
    expect(out.skipped).toEqual([{ ruleId: 'hours', name: 'hours', reason: 'sla did not answer' }]);
    const asked: unknown[] = [];
    const open = await firstMatch(rules, ctx(), at, async (q) => (asked.push(q), false));
    expect(open.rule?.id).toBe('hours');
    expect(asked).toEqual([{ businessHoursId: undefined, teamId: 'hours' }]);
  });
});
