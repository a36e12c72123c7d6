import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { TeamOptions } from '../lib/bits';
import { useApp } from '../lib/context';
import type { Conversation } from '../lib/types';

export function Modal({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    ref.current?.querySelector<HTMLElement>('select, input, textarea, button')?.focus();
    return () => prev?.focus?.();
  }, []);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div ref={ref} className="modal" role="dialog" aria-modal="true" aria-label={title} onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}

/** Hand off to a person or a team; the note is required (the receiver reads it first). */
export function HandoffDialog({ conv, onClose, onSubmit }: { conv: Conversation; onClose(): void; onSubmit(b: { toUserId?: string; toTeamId?: string; note: string }): Promise<boolean> }) {
  const { dir, me } = useApp();
  const [target, setTarget] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const users = [...dir.users.values()].filter((u) => !u.disabled && u.id !== me.id && u.role !== 'viewer');
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!target || !note.trim()) return;
    setBusy(true);
    const [kind, id] = target.split(':');
    const ok = await onSubmit(kind === 'user' ? { toUserId: id, note: note.trim() } : { toTeamId: id, note: note.trim() });
    setBusy(false);
    if (ok) onClose();
  }
  return (
    <Modal title="Hand off" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label>
          To
          <select value={target} onChange={(e) => setTarget(e.target.value)} required>
            <option value="">Choose a person or a team…</option>
            <optgroup label="People">
              {users.map((u) => (
                <option key={u.id} value={`user:${u.id}`}>
                  {u.name}
                </option>
              ))}
            </optgroup>
            <optgroup label="Teams (back to the queue)">
              {[...dir.teams.values()].map((t) => (
                <option key={t.id} value={`team:${t.id}`}>
                  {t.name}
                  {t.id === conv.team?.id ? ' (current)' : ''}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        <label>
          Note for the receiver (required)
          <textarea value={note} onChange={(e) => setNote(e.target.value)} required maxLength={4000} rows={4} placeholder="What has been done, what the customer still needs…" />
        </label>
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={busy || !target || !note.trim()}>
            Hand off
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function AssignDialog({ conv, onClose, onSubmit }: { conv: Conversation; onClose(): void; onSubmit(b: { assigneeId?: string | null; teamId?: string | null }): Promise<boolean> }) {
  const { dir } = useApp();
  const [assignee, setAssignee] = useState(conv.owner?.id ?? '');
  const [team, setTeam] = useState(conv.team?.id ?? '');
  async function submit(e: FormEvent) {
    e.preventDefault();
    const body: { assigneeId?: string | null; teamId?: string | null } = {};
    if (assignee !== (conv.owner?.id ?? '')) body.assigneeId = assignee || null;
    if (team !== (conv.team?.id ?? '')) body.teamId = team || null;
    if (!Object.keys(body).length) return onClose();
    if (await onSubmit(body)) onClose();
  }
  return (
    <Modal title="Assign" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label>
          Owner
          <select value={assignee} onChange={(e) => setAssignee(e.target.value)} aria-label="Owner">
            <option value="">Nobody (unassigned)</option>
            {[...dir.users.values()]
              .filter((u) => !u.disabled && u.role !== 'viewer')
              .map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
          </select>
        </label>
        <label>
          Team
          <select value={team} onChange={(e) => setTeam(e.target.value)} aria-label="Team">
            <option value="">No team</option>
            <TeamOptions />
          </select>
        </label>
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit">
            Assign
          </button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * Pick a moment: presets or a date and time (snooze until, remind me at). With `onNextDay`, also "tomorrow at HH:MM"
 * in the team's time zone: the server resolves the wall time (the browser's zone may not be the team's).
 */
export function TimeDialog({
  title,
  action,
  onClose,
  onSubmit,
  onNextDay,
}: {
  title: string;
  action: string;
  onClose(): void;
  onSubmit(untilIso: string): Promise<boolean>;
  onNextDay?(hhmm: string): Promise<boolean>;
}) {
  const presets: [string, number][] = [
    ['1 hour', 3600_000],
    ['4 hours', 4 * 3600_000],
    ['Tomorrow', 24 * 3600_000],
    ['1 week', 7 * 24 * 3600_000],
  ];
  const [custom, setCustom] = useState('');
  const [nextDay, setNextDay] = useState('09:00');
  const done = async (ok: Promise<boolean>) => (await ok) && onClose();
  const go = (iso: string) => done(onSubmit(iso));
  return (
    <Modal title={title} onClose={onClose}>
      <div className="row wrap">
        {presets.map(([l, ms]) => (
          <button key={l} onClick={() => void go(new Date(Date.now() + ms).toISOString())}>
            {l}
          </button>
        ))}
      </div>
      {onNextDay && (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            if (nextDay) void done(onNextDay(nextDay.slice(0, 5)));
          }}
        >
          <label>
            Tomorrow at (the team's time zone)
            <input type="time" value={nextDay} onChange={(e) => setNextDay(e.target.value)} />
          </label>
          <div className="row end">
            <button type="submit" disabled={!nextDay}>
              Tomorrow at {nextDay || '…'}
            </button>
          </div>
        </form>
      )}
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (custom) void go(new Date(custom).toISOString());
        }}
      >
        <label>
          Or pick a time
          <input type="datetime-local" value={custom} onChange={(e) => setCustom(e.target.value)} />
        </label>
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={!custom}>
            {action}
          </button>
        </div>
      </form>
    </Modal>
  );
}
