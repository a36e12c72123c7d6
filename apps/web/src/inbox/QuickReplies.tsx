import { useEffect, useState } from 'react';
import { api, ApiError } from '../lib/api';

export interface CannedResponse {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  teamId: string | null;
  ownerId: string | null;
}

export interface Rendered {
  text: string;
  missing: string[];
}

/** The `/shortcut` being typed, if the whole draft is one (e.g. "/ref" → "ref"); null otherwise. */
export function shortcutQuery(text: string): string | null {
  const m = /^\/([\p{L}\d._-]{0,40})$/u.exec(text);
  return m ? m[1] : null;
}

/**
 * Canned responses (team and personal) from GET /api/v1/canned-responses?q=, searched by shortcut, title or
 * text. Picking one asks the server to fill its placeholders for this conversation; placeholders with no value
 * are listed so the agent completes them before sending.
 */
export function QuickReplies({ query, conversationId, onPick, onClose }: { query: string; conversationId: string; onPick(r: Rendered): void; onClose(): void }) {
  const [items, setItems] = useState<CannedResponse[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    const t = setTimeout(() => {
      api<{ items: CannedResponse[] }>(`/api/v1/canned-responses?q=${encodeURIComponent(query)}`)
        .then((r) => live && setItems(r.items))
        .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    }, 120);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [query]);

  async function pick(c: CannedResponse) {
    try {
      onPick(await api<Rendered>(`/api/v1/canned-responses/${c.id}/render`, { method: 'POST', body: { conversationId } }));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  return (
    <div className="popover quick" role="menu" aria-label="Quick replies" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      {error && <p className="error small">Quick replies unavailable: {error}</p>}
      {!error && items === null && <p className="muted small">Loading…</p>}
      {items?.length === 0 && <p className="muted small">No quick reply matches “/{query}”. Admins and managers add them under Canned responses.</p>}
      {items?.map((c) => (
        <button key={c.id} role="menuitem" className="ghost" title={c.text} onClick={() => void pick(c)}>
          <strong>/{c.shortcut}</strong> {c.title} {c.teamId ? '' : <span className="muted small">(personal)</span>}
        </button>
      ))}
    </div>
  );
}
