import { useCallback, useEffect, useState } from 'react';
import { api } from '../lib/api';
import { useApp } from '../lib/context';
import { dateTime } from '../lib/format';
import type { EventFrame } from '../lib/realtime';

export interface CsatSurvey {
  surveyId: string;
  episode: number;
  agentId: string | null;
  status: 'sending' | 'sent' | 'not_sent';
  reason: string | null;
  sentAt: string | null;
  rating: number | null;
  ratedAt: string | null;
  comment: string | null;
}

/** The conversation's CSAT surveys in the details pane: sent or not (why), the rating, the agent rated and the comment. */
export function CsatDetails({ conversationId }: { conversationId: string }) {
  const { rt, dir } = useApp();
  const [items, setItems] = useState<CsatSurvey[] | null>(null);
  const load = useCallback(() => {
    api<{ items: CsatSurvey[] }>(`/api/v1/conversations/${conversationId}/csat`)
      .then((r) => setItems(r.items))
      .catch(() => setItems(null));
  }, [conversationId]);
  useEffect(load, [load]);
  // a survey sent, rated or commented is an event of this conversation
  useEffect(
    () =>
      rt.on((f) => {
        const e = f as Partial<EventFrame>;
        if (e.type === 'event' && e.conversationId === conversationId && String(e.event).startsWith('csat.')) load();
      }),
    [rt, conversationId, load],
  );
  if (!items || items.length === 0) return null;
  return (
    <section aria-label="Satisfaction">
      <h3>Satisfaction</h3>
      {items.map((s) => (
        <div key={s.surveyId} className="small">
          {s.status === 'not_sent' ? (
            <p className="muted">Survey not sent{s.reason ? `: ${s.reason}` : ''}</p>
          ) : s.rating === null ? (
            <p className="muted">Survey sent {dateTime(s.sentAt)} — no answer yet</p>
          ) : (
            <p>
              <strong>{s.rating}/5</strong>
              {s.agentId && <span className="muted"> for {dir.users.get(s.agentId)?.name ?? 'a former agent'}</span>}
              {s.comment && <span className="csat-comment"> — “{s.comment}”</span>}
            </p>
          )}
        </div>
      ))}
    </section>
  );
}
