import { WEEKDAYS, type BusinessHoursInput } from '@app/contracts';

/**
 * Business time on a calendar (IANA time zone, weekly schedule, holidays). Business time is real elapsed time
 * inside open intervals, so a DST day simply has one hour more or less of it. Pure functions, no IO.
 * A null calendar means "around the clock".
 */
export interface Calendar {
  timeZone: string;
  /** Open intervals per JS weekday (0 = Sunday), minutes from local midnight, sorted, non-overlapping. */
  days: [number, number][][];
  holidays: Set<string>;
}

const DAY_INDEX: Record<(typeof WEEKDAYS)[number], number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
/** How far ahead we look for open time (a calendar with only holidays ahead is treated as closed). */
const MAX_DAYS = 800;

export class CalendarError extends Error {}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatOf(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** True when Intl knows the zone (IANA names; "UTC" too). */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatOf(tz);
    return true;
  } catch {
    return false;
  }
}

function localParts(ms: number, timeZone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, number> = {};
  for (const x of formatOf(timeZone).formatToParts(new Date(ms))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year, m: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second };
}

function offsetMs(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant of a local wall time (minutes may be 1440 = next midnight). In a DST gap, the later side: the wall
 * time read with the offset before the change (the smaller one), e.g. Berlin 02:30 → 03:30 CEST, Santiago's missing
 * 00:00 → 01:00 (-03), the change itself — not an instant before the change, as `guess - o2` gives west of UTC.
 */
function localToUtc(y: number, m: number, d: number, minutes: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d, 0, minutes);
  const o1 = offsetMs(guess, timeZone);
  const t = guess - o1;
  const o2 = offsetMs(t, timeZone);
  if (o1 === o2) return t;
  const t2 = guess - o2;
  return offsetMs(t2, timeZone) === o2 ? t2 : guess - Math.min(o1, o2);
}

/** The next calendar day (after the local date of `nowMs`) at `hhmm` wall time in `timeZone` (a DST gap: the later side). */
export function nextDayAt(timeZone: string, nowMs: number, hhmm: string): number {
  const p = localParts(nowMs, timeZone);
  const next = new Date(Date.UTC(p.y, p.m - 1, p.d + 1));
  const minutes = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  return localToUtc(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), minutes, timeZone);
}

/** Builds a calendar, refusing what cannot be right (unknown zone, open ≥ close, overlaps, bad dates). */
export function buildCalendar(h: Pick<BusinessHoursInput, 'timeZone' | 'weekly' | 'holidays'>): Calendar {
  if (!isValidTimeZone(h.timeZone)) throw new CalendarError(`timeZone: unknown time zone "${h.timeZone}" (use an IANA name like Europe/Berlin)`);
  const days: [number, number][][] = [[], [], [], [], [], [], []];
  const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
  for (const w of h.weekly) {
    const open = toMin(w.open);
    const close = toMin(w.close);
    if (open >= close) throw new CalendarError(`weekly: ${w.day} ${w.open}–${w.close} closes before it opens`);
    days[DAY_INDEX[w.day]].push([open, close]);
  }
  for (const [i, list] of days.entries()) {
    list.sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < list.length; k++)
      if (list[k][0] < list[k - 1][1]) {
        const name = Object.keys(DAY_INDEX).find((n) => DAY_INDEX[n as keyof typeof DAY_INDEX] === i);
        throw new CalendarError(`weekly: ${name} intervals overlap`);
      }
  }
  const holidays = new Set<string>();
  for (const x of h.holidays ?? []) {
    const [y, m, d] = x.date.split('-').map(Number);
    const t = new Date(Date.UTC(y, m - 1, d));
    if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) throw new CalendarError(`holidays: ${x.date} is not a date`);
    holidays.add(x.date);
  }
  return { timeZone: h.timeZone, days, holidays };
}

/** Open intervals (UTC ms) from the local day of `fromMs` onwards, each clipped to start no earlier than fromMs. */
function* openIntervals(cal: Calendar, fromMs: number): Generator<[number, number]> {
  const p = localParts(fromMs, cal.timeZone);
  for (let i = -1; i < MAX_DAYS; i++) {
    const day = new Date(Date.UTC(p.y, p.m - 1, p.d + i));
    const y = day.getUTCFullYear();
    const m = day.getUTCMonth() + 1;
    const d = day.getUTCDate();
    const key = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    if (cal.holidays.has(key)) continue;
    for (const [open, close] of cal.days[day.getUTCDay()]) {
      const e = localToUtc(y, m, d, close, cal.timeZone);
      if (e <= fromMs) continue;
      yield [Math.max(fromMs, localToUtc(y, m, d, open, cal.timeZone)), e];
    }
  }
}

/** The instant when `ms` of business time have passed since `startMs`. */
export function addBusinessTime(cal: Calendar | null, startMs: number, ms: number): number {
  if (!cal) return startMs + ms;
  let left = ms;
  for (const [s, e] of openIntervals(cal, startMs)) {
    if (left <= e - s) return s + left;
    left -= e - s;
  }
  throw new CalendarError(`no open hours within ${MAX_DAYS} days`);
}

/** Business time between two instants. */
export function businessTimeBetween(cal: Calendar | null, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return 0;
  if (!cal) return toMs - fromMs;
  let sum = 0;
  for (const [s, e] of openIntervals(cal, fromMs)) {
    if (s >= toMs) break;
    sum += Math.min(e, toMs) - s;
  }
  return sum;
}

/** Whether the hours are open at `atMs`, and when they next open if not. */
export function stateAt(cal: Calendar | null, atMs: number): { open: boolean; nextOpenAt: number | null } {
  if (!cal) return { open: true, nextOpenAt: null };
  for (const [s] of openIntervals(cal, atMs)) return s <= atMs ? { open: true, nextOpenAt: null } : { open: false, nextOpenAt: s };
  return { open: false, nextOpenAt: null };
}
