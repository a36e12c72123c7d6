import { useEffect, useState } from 'react';
import { api } from '../lib/api';

export interface TemplateSummary {
  name: string;
  language: string;
  category: string | null;
  body: string | null;
  bodyParameterCount: number | null;
}

export interface TemplateChoice {
  name: string;
  language: string;
  bodyParameters?: string[];
}

/** How many body parameters to ask for: the server's count, else the distinct {{n}} in the body. */
export function parameterCount(t: TemplateSummary): number {
  if (t.bodyParameterCount !== null) return t.bodyParameterCount;
  return new Set([...(t.body ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1])).size;
}

/** The body with the typed values in place of {{1}}, {{2}}, … (blank ones stay visible). */
export function preview(body: string, values: string[]): string {
  let i = 0;
  const seen = new Map<string, number>();
  return body.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, k: string) => {
    if (!seen.has(k)) seen.set(k, i++);
    return values[seen.get(k)!]?.trim() || all;
  });
}

/**
 * Approved WhatsApp templates for this conversation's number (GET /api/v1/conversations/:id/templates), with one
 * input per body parameter and a live preview. The only way to write once the 24 h window has closed.
 */
export function TemplatePicker({ conversationId, sending, onSend, onClose }: { conversationId: string; sending: boolean; onSend(t: TemplateChoice): void; onClose?(): void }) {
  const [items, setItems] = useState<TemplateSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<TemplateSummary | null>(null);
  const [values, setValues] = useState<string[]>([]);

  useEffect(() => {
    let live = true;
    api<{ items: TemplateSummary[] }>(`/api/v1/conversations/${conversationId}/templates`)
      .then((r) => live && setItems(r.items))
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [conversationId]);

  function pick(key: string) {
    const t = items?.find((x) => `${x.name}|${x.language}` === key) ?? null;
    setPicked(t);
    setValues(t ? Array.from({ length: parameterCount(t) }, () => '') : []);
  }

  const n = picked ? parameterCount(picked) : 0;
  const ready = !!picked && values.every((v) => v.trim().length > 0);

  return (
    <section className="template-picker" aria-label="Send a template">
      {error && <p className="error small">Templates unavailable: {error}</p>}
      {!error && items === null && <p className="muted small">Loading templates…</p>}
      {items?.length === 0 && <p className="muted small">No approved template for this number yet.</p>}
      {items && items.length > 0 && (
        <label>
          Template{' '}
          <select aria-label="Template" value={picked ? `${picked.name}|${picked.language}` : ''} onChange={(e) => pick(e.target.value)}>
            <option value="">Choose an approved template…</option>
            {items.map((t) => (
              <option key={`${t.name}|${t.language}`} value={`${t.name}|${t.language}`}>
                {t.name} ({t.language}){t.category ? ` · ${t.category.toLowerCase()}` : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      {picked && (
        <>
          {Array.from({ length: n }, (_, i) => (
            <label key={i} className="block">
              {`{{${i + 1}}}`}{' '}
              <input
                aria-label={`Parameter ${i + 1}`}
                value={values[i] ?? ''}
                maxLength={1024}
                onChange={(e) => setValues(values.map((v, j) => (j === i ? e.target.value : v)))}
              />
            </label>
          ))}
          {picked.body && <p className="template-preview">{preview(picked.body, values)}</p>}
        </>
      )}
      <div className="composer-actions">
        {onClose && (
          <button className="ghost" onClick={onClose}>
            Cancel
          </button>
        )}
        <span className="spacer" />
        <button
          className="primary"
          disabled={!ready || sending}
          onClick={() => picked && onSend({ name: picked.name, language: picked.language, ...(n ? { bodyParameters: values.map((v) => v.trim()) } : {}) })}
        >
          {sending ? 'Sending…' : 'Send template'}
        </button>
      </div>
    </section>
  );
}
