import { useState } from 'react';
import { api } from '../lib/api';
import { TableHead } from '../lib/bits';
import { AddForm, DeleteButton, useList, useSubmit } from './shared';

const DAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;
type Day = (typeof DAYS)[number][0];
interface Interval {
  day: Day;
  open: string;
  close: string;
}
interface Holiday {
  date: string;
  name?: string;
}
interface Hours {
  id: string;
  name: string;
  timeZone: string;
  weekly: Interval[];
  holidays: Holiday[];
}
type Draft = Omit<Hours, 'id'>;

const WEEKDAYS_9_TO_5: Interval[] = DAYS.slice(0, 5).map(([day]) => ({ day, open: '09:00', close: '17:00' }));
const blank = (): Draft => ({ name: '', timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', weekly: WEEKDAYS_9_TO_5, holidays: [] });
const ZONES: string[] = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];

/** "Mon–Fri 09:00–17:00"-style summary, one entry per day with its intervals. */
function summary(weekly: Interval[]) {
  return DAYS.map(([d, label]) => [label.slice(0, 3), weekly.filter((i) => i.day === d).map((i) => `${i.open}–${i.close}`)] as const)
    .filter(([, iv]) => iv.length)
    .map(([l, iv]) => `${l} ${iv.join(', ')}`)
    .join('; ');
}

/** Business-hours calendars (time zone, weekly schedule, holidays) that SLA policies count time in. Admins; managers as sla allows. */
export function BusinessHours() {
  const list = useList<Hours>('/api/v1/sla/business-hours');
  const { error, run } = useSubmit();
  const [draft, setDraft] = useState<Draft>(blank);
  const [editing, setEditing] = useState<string | null>(null);
  if (list.error) return <p className="muted">Business hours are not available: {list.error}</p>;
  const setInterval = (i: number, patch: Partial<Interval>) => setDraft({ ...draft, weekly: draft.weekly.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  const setHoliday = (i: number, patch: Partial<Holiday>) => setDraft({ ...draft, holidays: draft.holidays.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  async function save() {
    const body = { ...draft, holidays: draft.holidays.map((h) => (h.name?.trim() ? { date: h.date, name: h.name.trim() } : { date: h.date })) };
    const ok = editing
      ? await run(`Saved ${draft.name}`, () => api(`/api/v1/sla/business-hours/${editing}`, { method: 'PATCH', body }))
      : await run(`Created ${draft.name}`, () => api('/api/v1/sla/business-hours', { method: 'POST', body }));
    if (ok) {
      setEditing(null);
      setDraft(blank());
      list.load();
    }
  }
  return (
    <section>
      <table className="wide">
        <TableHead cols={['Calendar', 'Time zone', 'Weekly', 'Holidays', '']} />
        <tbody>
          {list.items.map((h) => (
            <tr key={h.id}>
              <td>{h.name}</td>
              <td>{h.timeZone}</td>
              <td className="small">{summary(h.weekly)}</td>
              <td className="small">{h.holidays.map((d) => (d.name ? `${d.date} ${d.name}` : d.date)).join(', ') || '—'}</td>
              <td>
                <button className="link" onClick={() => (setEditing(h.id), setDraft({ name: h.name, timeZone: h.timeZone, weekly: h.weekly, holidays: h.holidays }))}>
                  Edit
                </button>{' '}
                <DeleteButton what={`business hours ${h.name}`} path={`/api/v1/sla/business-hours/${h.id}`} run={run} then={list.load} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm title={editing ? `Edit ${draft.name}` : 'Add business hours'} error={error} submit={editing ? 'Save hours' : 'Add hours'} disabled={!draft.weekly.length} onSubmit={() => void save()}>
        <label>
          Name <input value={draft.name} maxLength={100} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required />
        </label>
        <label>
          Time zone <input value={draft.timeZone} list="time-zones" onChange={(e) => setDraft({ ...draft, timeZone: e.target.value })} required />
          <datalist id="time-zones">
            {ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </label>
        <fieldset>
          <legend>Weekly schedule</legend>
          {draft.weekly.map((iv, i) => (
            <div key={i} className="row">
              <select aria-label={`Day of interval ${i + 1}`} value={iv.day} onChange={(e) => setInterval(i, { day: e.target.value as Day })}>
                {DAYS.map(([d, l]) => (
                  <option key={d} value={d}>
                    {l}
                  </option>
                ))}
              </select>
              <input type="time" aria-label={`Opens (interval ${i + 1})`} value={iv.open} onChange={(e) => setInterval(i, { open: e.target.value })} required />
              <input type="time" aria-label={`Closes (interval ${i + 1})`} value={iv.close} onChange={(e) => setInterval(i, { close: e.target.value })} required />
              <button type="button" className="link" onClick={() => setDraft({ ...draft, weekly: draft.weekly.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="link" onClick={() => setDraft({ ...draft, weekly: [...draft.weekly, { day: 'sat', open: '10:00', close: '14:00' }] })}>
            Add interval
          </button>
        </fieldset>
        <fieldset>
          <legend>Holidays</legend>
          {draft.holidays.map((h, i) => (
            <div key={i} className="row">
              <input type="date" aria-label={`Holiday ${i + 1} date`} value={h.date} onChange={(e) => setHoliday(i, { date: e.target.value })} required />
              <input aria-label={`Holiday ${i + 1} name`} value={h.name ?? ''} maxLength={100} onChange={(e) => setHoliday(i, { name: e.target.value })} />
              <button type="button" className="link" onClick={() => setDraft({ ...draft, holidays: draft.holidays.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="link" onClick={() => setDraft({ ...draft, holidays: [...draft.holidays, { date: '', name: '' }] })}>
            Add holiday
          </button>
        </fieldset>
        {editing && (
          <button type="button" className="link" onClick={() => (setEditing(null), setDraft(blank()))}>
            Cancel
          </button>
        )}
      </AddForm>
    </section>
  );
}
