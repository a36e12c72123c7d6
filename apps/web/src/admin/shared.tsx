import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../lib/api';
import { TeamOptions } from '../lib/bits';
import { useApp } from '../lib/context';

/** Building blocks shared by the admin tabs. */
export const toggle = (list: string[], id: string, on: boolean) => (on ? [...list, id] : list.filter((x) => x !== id));

/** The "add a …" form under each table: fields, the last error, one submit button. */
export function AddForm({ title, error, submit, disabled, onSubmit, children }: { title?: string; error: string | null; submit: string; disabled?: boolean; onSubmit(): void; children: ReactNode }) {
  return (
    <form
      className="card form inline-form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {title && <h2>{title}</h2>}
      {children}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button className="primary" disabled={disabled}>
        {submit}
      </button>
    </form>
  );
}

/** "Delete" with a confirmation, then reload. */
export function DeleteButton({ what, path, run, then }: { what: string; path: string; run: (msg: string, fn: () => Promise<unknown>) => Promise<boolean>; then: () => void }) {
  return (
    <button className="link" onClick={() => confirm(`Delete ${what}?`) && void run(`Deleted ${what}`, () => api(path, { method: 'DELETE' })).then(then)}>
      Delete
    </button>
  );
}

export function useSubmit() {
  const { toast } = useApp();
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (what: string, fn: () => Promise<unknown>) => {
      setError(null);
      try {
        await fn();
        toast(what);
        return true;
      } catch (e) {
        setError(e instanceof ApiError ? e.message : String(e));
        return false;
      }
    },
    [toast],
  );
  return { error, run };
}


/** GET a `{ items }` list; `error` holds the API's refusal in words (403 for non-admins, 503 when down). */
export function useList<T>(path: string) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(
    () =>
      void api<{ items: T[] }>(path)
        .then((r) => {
          setItems(r.items);
          setError(null);
        })
        .catch((e) => setError(e instanceof Error ? e.message : String(e))),
    [path],
  );
  useEffect(load, [load]);
  return { items: items ?? [], loaded: items !== null, error, load };
}

/** A write-only secret as the API shows it: never the value, only whether it is set and its last 4 characters. */
export function SecretState({ s }: { s: { set: boolean; last4: string | null } | null | undefined }) {
  return s?.set ? <span className="secret-state">set ••••{s.last4 ?? ''}</span> : <span className="muted">not set</span>;
}

/** The "active" checkbox of a registry row: PATCH { status: 'active' | 'disabled' }, then reload. */
export function ActiveToggle({ name, status, path, run, then }: { name: string; status: string; path: string; run: (msg: string, fn: () => Promise<unknown>) => Promise<boolean>; then: () => void }) {
  return (
    <input
      type="checkbox"
      aria-label={`${name} active`}
      checked={status === 'active'}
      onChange={(e) => void run(`${name} ${e.target.checked ? 'enabled' : 'disabled'}`, () => api(path, { method: 'PATCH', body: { status: e.target.checked ? 'active' : 'disabled' } })).then(then)}
    />
  );
}

/** "For a team / a business number" and the team or the number (greeting/away replies, CSAT surveys). */
type TeamOrNumber = { target: 'team' | 'number'; teamId: string; phoneNumberId: string };
export function TeamOrNumberFields({
  form,
  onChange,
  labels = { for: 'For', team: 'Team', number: 'Phone number id' },
}: {
  form: TeamOrNumber;
  onChange(patch: Partial<TeamOrNumber>): void;
  labels?: { for: string; team: string; number: string };
}) {
  return (
    <>
      <label>
        {labels.for}
        <select value={form.target} onChange={(e) => onChange({ target: e.target.value as 'team' | 'number' })}>
          <option value="team">a team</option>
          <option value="number">a business number</option>
        </select>
      </label>
      {form.target === 'team' ? (
        <label>
          {labels.team}
          <select value={form.teamId} onChange={(e) => onChange({ teamId: e.target.value })} required>
            <option value="">Choose…</option>
            <TeamOptions />
          </select>
        </label>
      ) : (
        <label>
          {labels.number} <input value={form.phoneNumberId} inputMode="numeric" onChange={(e) => onChange({ phoneNumberId: e.target.value })} required />
        </label>
      )}
    </>
  );
}
