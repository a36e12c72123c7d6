import { useEffect, useState } from 'react';
import { api, qs, raw } from '../lib/api';
import { useApp } from '../lib/context';

export interface CsatFigures {
  sent: number;
  rated: number;
  responseRatePercent: number | null;
  scorePercent: number | null;
  averageRating: number | null;
}
export interface CsatReport extends CsatFigures {
  kind: 'csat';
  distribution: { rating: number; count: number }[];
  byTeam: (CsatFigures & { teamId: string | null })[];
  byAgent: (CsatFigures & { agentId: string | null })[];
}

const pct = (v: number | null) => (v === null ? '—' : `${Number.isInteger(v) ? v : v.toFixed(1)} %`);

/**
 * Customer satisfaction over the last 7 days (the csat report, docs/METRICS.md): the score (share of 4–5 ratings),
 * the response rate (rated ÷ surveys sent), the ratings 1–5, and the same per team and per agent (owner at resolve).
 */
export function CsatPanel() {
  const { dir } = useApp();
  const [r, setR] = useState<CsatReport | null>(null);
  const [missing, setMissing] = useState(false);
  const [range] = useState(() => {
    const now = Date.now();
    return { from: new Date(now - 7 * 86400_000).toISOString(), to: new Date(now).toISOString() };
  });

  useEffect(() => {
    api<CsatReport>(`/api/v1/reports/csat${qs(range)}`)
      .then(setR)
      .catch(() => setMissing(true));
    // once per mount, like the other reports
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  async function csv() {
    const b = await (await raw(`/api/v1/reports/csat/raw${qs({ ...range, format: 'csv' })}`)).blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(b);
    a.download = 'csat-last-7-days.csv';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  if (missing) return null;
  if (!r) return <p className="muted">Loading satisfaction…</p>;
  const max = Math.max(1, ...r.distribution.map((d) => d.count));
  const row = (key: string, name: string, f: CsatFigures) => (
    <tr key={key}>
      <td>{name}</td>
      <td>{pct(f.scorePercent)}</td>
      <td>{pct(f.responseRatePercent)}</td>
      <td>
        {f.rated} / {f.sent}
      </td>
      <td>{f.averageRating ?? '—'}</td>
    </tr>
  );
  return (
    <section className="card" aria-label="Customer satisfaction">
      <div className="row">
        <h2>Customer satisfaction (7 days)</h2>
        <span className="spacer" />
        <button className="link" onClick={() => void csv()}>
          csat CSV
        </button>
      </div>
      {r.sent === 0 ? (
        <p className="muted small">No satisfaction surveys sent in the last 7 days.</p>
      ) : (
        <>
          <div className="stats">
            <div className="stat" aria-label="CSAT score">
              <div className="muted small">CSAT score (4–5 of rated)</div>
              <div className="stat-value">{pct(r.scorePercent)}</div>
            </div>
            <div className="stat" aria-label="Response rate">
              <div className="muted small">Response rate</div>
              <div className="stat-value">{pct(r.responseRatePercent)}</div>
            </div>
            <div className="stat">
              <div className="muted small">Rated / sent</div>
              <div className="stat-value">
                {r.rated} / {r.sent}
              </div>
            </div>
          </div>
          <ol className="csat-dist" aria-label="Ratings">
            {[...r.distribution].reverse().map((d) => (
              <li key={d.rating} className="attain">
                <span>{d.rating} ★</span>
                <span className="meter" aria-hidden="true">
                  <span style={{ width: `${(d.count / max) * 100}%` }} />
                </span>
                <span>{d.count}</span>
              </li>
            ))}
          </ol>
          <table className="wide" aria-label="CSAT by team and agent">
            <thead>
              <tr>
                <th>Team / agent</th>
                <th>Score</th>
                <th>Response rate</th>
                <th>Rated / sent</th>
                <th>Average</th>
              </tr>
            </thead>
            <tbody>
              {r.byTeam.map((t) => row(`t-${t.teamId}`, t.teamId ? `Team ${dir.teams.get(t.teamId)?.name ?? t.teamId}` : 'No team', t))}
              {r.byAgent.map((a) => row(`a-${a.agentId}`, a.agentId ? (dir.users.get(a.agentId)?.name ?? a.agentId) : 'Unassigned', a))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
