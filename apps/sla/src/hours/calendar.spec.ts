import { addBusinessTime, buildCalendar, businessTimeBetween, CalendarError, stateAt } from './calendar';

const MIN = 60_000;
const weekdays = (open: string, close: string) => (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, open, close }));
const berlin = (holidays: string[] = []) =>
  buildCalendar({ timeZone: 'Europe/Berlin', weekly: weekdays('09:00', '18:00'), holidays: holidays.map((date) => ({ date })) });
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('business-hours calendar', () => {
  it('17:55 with hours to 18:00 and a 15-minute target is due at 09:10 the next working day', () => {
    // Tuesday 2026-11-24 17:55 in Berlin (UTC+1) → Wednesday 09:10 local = 08:10Z
    expect(iso(addBusinessTime(berlin(), at('2026-11-24T17:55:00+01:00'), 15 * MIN))).toBe('2026-11-25T08:10:00.000Z');
    // a Friday rolls over the weekend to Monday
    expect(iso(addBusinessTime(berlin(), at('2026-11-27T17:55:00+01:00'), 15 * MIN))).toBe('2026-11-30T08:10:00.000Z');
  });

  it('counts across the DST change in local wall time (Friday before → Monday after, now UTC+2)', () => {
    // Europe/Berlin moves to summer time on Sunday 2026-03-29
    expect(iso(addBusinessTime(berlin(), at('2026-03-27T17:55:00+01:00'), 15 * MIN))).toBe('2026-03-30T07:10:00.000Z');
    // and back on Sunday 2026-10-25: Monday 09:10 is UTC+1 again
    expect(iso(addBusinessTime(berlin(), at('2026-10-23T17:55:00+02:00'), 15 * MIN))).toBe('2026-10-26T08:10:00.000Z');
    // a round-the-clock calendar on the short day counts 23 real hours for that day
    const allDay = buildCalendar({ timeZone: 'Europe/Berlin', weekly: [{ day: 'sun', open: '00:00', close: '24:00' }], holidays: [] });
    expect(businessTimeBetween(allDay, at('2026-03-28T12:00:00Z'), at('2026-03-30T12:00:00Z'))).toBe(23 * 60 * MIN);
  });

  it('a gap west of UTC (Chile moves 00:00 → 01:00) opens at the change, not an hour before it', () => {
    // America/Santiago starts summer time on Sunday 2026-09-06: local midnight does not exist, 01:00 (-03) is 04:00Z
    const sunday = buildCalendar({ timeZone: 'America/Santiago', weekly: [{ day: 'sun', open: '00:00', close: '02:00' }], holidays: [] });
    expect(businessTimeBetween(sunday, at('2026-09-05T00:00:00Z'), at('2026-09-08T00:00:00Z'))).toBe(60 * MIN);
    expect(stateAt(sunday, at('2026-09-06T03:30:00Z'))).toEqual({ open: false, nextOpenAt: at('2026-09-06T04:00:00Z') }); // Saturday 23:30
    // Saturday until midnight ends at the change too (04:00Z), not at 03:00Z
    const saturday = buildCalendar({ timeZone: 'America/Santiago', weekly: [{ day: 'sat', open: '22:00', close: '24:00' }], holidays: [] });
    expect(businessTimeBetween(saturday, at('2026-09-05T00:00:00Z'), at('2026-09-08T00:00:00Z'))).toBe(120 * MIN);
    // east of UTC unchanged: Berlin's 02:30 on 2026-03-29 reads as 03:30 CEST
    const berlinGap = buildCalendar({ timeZone: 'Europe/Berlin', weekly: [{ day: 'sun', open: '02:30', close: '04:00' }], holidays: [] });
    expect(businessTimeBetween(berlinGap, at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z'))).toBe(30 * MIN);
  });

  it('skips a holiday', () => {
    // Thursday 2026-12-24 17:55, with the 25th as a holiday → Monday 28th (26/27 are the weekend)
    expect(iso(addBusinessTime(berlin(['2026-12-25']), at('2026-12-24T17:55:00+01:00'), 15 * MIN))).toBe('2026-12-28T08:10:00.000Z');
    expect(iso(addBusinessTime(berlin([]), at('2026-12-24T17:55:00+01:00'), 15 * MIN))).toBe('2026-12-25T08:10:00.000Z');
  });

  it('a message before opening starts counting at opening; business time between instants skips closed hours', () => {
    expect(iso(addBusinessTime(berlin(), at('2026-11-24T06:00:00+01:00'), 30 * MIN))).toBe('2026-11-24T08:30:00.000Z');
    expect(businessTimeBetween(berlin(), at('2026-11-24T17:00:00+01:00'), at('2026-11-25T10:00:00+01:00'))).toBe(120 * MIN);
    expect(addBusinessTime(null, 1000, 5000)).toBe(6000);
  });

  it('answers open/closed with the next opening', () => {
    expect(stateAt(berlin(), at('2026-11-24T10:00:00+01:00'))).toEqual({ open: true, nextOpenAt: null });
    expect(stateAt(berlin(), at('2026-11-28T10:00:00+01:00'))).toEqual({ open: false, nextOpenAt: at('2026-11-30T09:00:00+01:00') });
  });

  it('refuses unknown zones, overlapping, inverted and impossible hours, and bad holiday dates', () => {
    const bad = (h: Partial<Parameters<typeof buildCalendar>[0]>) => () =>
      buildCalendar({ timeZone: 'Europe/Berlin', weekly: weekdays('09:00', '18:00'), holidays: [], ...h });
    expect(bad({ timeZone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
    expect(bad({ weekly: [{ day: 'mon', open: '09:00', close: '12:00' }, { day: 'mon', open: '11:00', close: '14:00' }] })).toThrow(/overlap/);
    expect(bad({ weekly: [{ day: 'mon', open: '18:00', close: '09:00' }] })).toThrow(CalendarError);
    expect(bad({ holidays: [{ date: '2026-02-30' }] })).toThrow(/not a date/);
  });
});
