import { useState } from 'react';
import { api } from '../lib/api';
import { TableHead } from '../lib/bits';
import { useApp } from '../lib/context';
import { AddForm, DeleteButton, TeamOrNumberFields, useList, useSubmit } from './shared';

export interface CsatSetting {
  id: string;
  teamId: string | null;
  phoneNumberId: string | null;
  enabled: boolean;
  question: string;
  buttonText: string;
  commentPrompt: string | null;
  commentMinutes: number;
  sentCount: number;
  errorCount: number;
  lastError: string | null;
}

/**
 * CSAT surveys (admin → automation): per team (managers: theirs) or business number (admins). After a resolve the
 * customer gets one 1–5 list; with a comment prompt, their next message within the minutes is kept as the comment.
 */
export function CsatSettings() {
  const { dir } = useApp();
  const list = useList<CsatSetting>('/api/v1/csat/settings');
  const { error, run } = useSubmit();
  const team = (id: string | null) => (id ? (dir.teams.get(id)?.name ?? id) : '—');
  const [form, setForm] = useState({ target: 'team' as 'team' | 'number', teamId: '', phoneNumberId: '', question: 'How satisfied are you with our help?', buttonText: 'Rate us', commentPrompt: '', commentMinutes: 10 });
  const put = (s: Omit<CsatSetting, 'id' | 'sentCount' | 'errorCount' | 'lastError'>, what: string) => {
    const body = {
      ...(s.teamId ? { teamId: s.teamId } : { phoneNumberId: s.phoneNumberId }),
      enabled: s.enabled,
      question: s.question,
      buttonText: s.buttonText,
      commentPrompt: s.commentPrompt,
      commentMinutes: s.commentMinutes,
    };
    return run(what, () => api('/api/v1/csat/settings', { method: 'PUT', body }));
  };
  return (
    <>
      <h2>Satisfaction survey (CSAT)</h2>
      <p className="muted small">Sent once per conversation episode after a resolve, while the 24-hour window is open: a 1–5 list the customer taps.</p>
      {list.error ? (
        <p className="muted">CSAT settings are not available: {list.error}</p>
      ) : (
        <table className="wide">
          <TableHead cols={['For', 'Question', 'Comment prompt', 'Sent', 'On', '']} />
          <tbody>
            {list.items.map((s) => (
              <tr key={s.id}>
                <td>{s.teamId ? `team ${team(s.teamId)}` : `number ${s.phoneNumberId}`}</td>
                <td className="small" style={{ whiteSpace: 'pre-wrap' }}>
                  {s.question} <span className="muted">[{s.buttonText}]</span>
                </td>
                <td className="small">{s.commentPrompt ? `${s.commentPrompt} (${s.commentMinutes} min)` : 'none'}</td>
                <td>
                  {s.sentCount}
                  {s.errorCount > 0 && (
                    <div className="error small">
                      not sent {s.errorCount}× — {s.lastError}
                    </div>
                  )}
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`CSAT survey for ${s.teamId ? team(s.teamId) : s.phoneNumberId} enabled`}
                    checked={s.enabled}
                    onChange={(e) => void put({ ...s, enabled: e.target.checked }, `CSAT survey ${e.target.checked ? 'enabled' : 'disabled'}`).then(list.load)}
                  />
                </td>
                <td>
                  <DeleteButton what="this CSAT survey" path={`/api/v1/csat/settings/${s.id}`} run={run} then={list.load} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddForm
        error={error}
        submit="Save survey"
        onSubmit={async () => {
          const s = {
            teamId: form.target === 'team' ? form.teamId : null,
            phoneNumberId: form.target === 'number' ? form.phoneNumberId.trim() : null,
            enabled: true,
            question: form.question,
            buttonText: form.buttonText,
            commentPrompt: form.commentPrompt.trim() ? form.commentPrompt : null,
            commentMinutes: Number(form.commentMinutes),
          };
          if (await put(s, 'Saved CSAT survey')) list.load();
        }}
      >
        <TeamOrNumberFields form={form} onChange={(patch) => setForm({ ...form, ...patch })} labels={{ for: 'Survey for', team: 'Survey team', number: 'Survey phone number id' }} />
        <label>
          Question <textarea value={form.question} maxLength={1024} onChange={(e) => setForm({ ...form, question: e.target.value })} required />
        </label>
        <label>
          Button text <input value={form.buttonText} maxLength={20} onChange={(e) => setForm({ ...form, buttonText: e.target.value })} required />
        </label>
        <label>
          Comment prompt (optional) <textarea value={form.commentPrompt} maxLength={1024} onChange={(e) => setForm({ ...form, commentPrompt: e.target.value })} />
        </label>
        <label>
          Comment within (min) <input type="number" min={1} max={60} value={form.commentMinutes} onChange={(e) => setForm({ ...form, commentMinutes: Number(e.target.value) })} />
        </label>
      </AddForm>
    </>
  );
}
