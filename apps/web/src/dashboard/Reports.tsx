import { useEffect, useState } from 'react';
import { api, qs, raw } from '../lib/api';

interface Durations {
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}
interface Attainment {
  target: string;
  decided: number;
  met: number;
  breached: number;
  attainmentPercent: number | null;
}
interface Figures {
  volume?: { conversationsOpened: number; conversationsResolved: number; messagesIn: number; messagesOut: number; byHour: { hour: number; in: number; out: number }[] };
  frt?: { wallClock: Durations };
  resolution?: { wallClock: Durations };
  sla?: { targets: Attainment[] };
}

export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(1)}d`;
}

const TARGETS: Record<string, string> = { firstResponse: 'First response', nextResponse: 'Next response', resolution: 'Resolution' };

/** The last 7 days from the reports API (manager view): volume by hour, response and resolution times, SLA attainment, CSV. */
export function Reports() {
  const [f, setF] = useState<Figures | null>(null);
  const [missing, setMissing] = useState(false);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const range = { from: new Date(Date.now() - 7 * 86400_000).toISOString(), to: new Date().toISOString(), tz };
  const q = qs(range);

  useEffect(() => {
    Promise.all([
      api<Figures['volume']>(`/api/v1/reports/volume${q}`),
      api<Figures['frt']>(`/api/v1/reports/first-response${q}`),
      api<Figures['resolution']>(`/api/v1/reports/resolution${q}`),
      api<Figures['sla']>(`/api/v1/reports/sla${q}`),
    ])
      .then(([volume, frt, resolution, sla]) => setF({ volume, frt, resolution, sla }))
      .catch(() => setMissing(true));
    // once per mount: the range moves only when the page is opened again
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  async function csv(kind: string) {
    const b = await (await raw(`/api/v1/reports/${kind}/raw${qs({ ...range, format: 'csv' })}`)).blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(b);
    a.download = `${kind}-last-7-days.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  if (missing) return null;
  if (!f) return <p className="muted">Loading reports…</p>;
  const hours = f.volume?.byHour ?? [];
  const max = Math.max(1, ...hours.map((h) => h.in + h.out));
  return (
    <section className="card" aria-label="Last 7 days">
      <div className="row">
        <h2>Last 7 days</h2>
        <span className="spacer" />
        {['volume', 'first-response', 'resolution', 'sla'].map((k) => (
          <button key={k} className="link" onClick={() => void csv(k)}>
            {k} CSV
          </button>
        ))}
      </div>
      <div className="stats">
        <Stat label="Conversations opened" value={f.volume?.conversationsOpened ?? 0} />
        <Stat label="Resolved" value={f.volume?.conversationsResolved ?? 0} />
        <Stat label="Messages in / out" value={`${f.volume?.messagesIn ?? 0} / ${f.volume?.messagesOut ?? 0}`} />
        <Stat label="First response (median · p90)" value={`${duration(f.frt?.wallClock.medianSeconds)} · ${duration(f.frt?.wallClock.p90Seconds)}`} />
        <Stat label="Resolution (median · p90)" value={`${duration(f.resolution?.wallClock.medianSeconds)} · ${duration(f.resolution?.wallClock.p90Seconds)}`} />
      </div>
      <div className="cards">
        <figure className="chart">
          <figcaption>Messages by hour of day ({tz})</figcaption>
          <svg viewBox="0 0 240 80" role="img" aria-label="Messages by hour of day">
            {hours.map((h) => {
              const inH = (h.in / max) * 70;
              const outH = (h.out / max) * 70;
              return (
                <g key={h.hour}>
                  <title>{`${h.hour}:00 — ${h.in} in, ${h.out} out`}</title>
                  <rect x={h.hour * 10 + 1} y={75 - inH - outH} width={8} height={outH} className="bar-out" />
                  <rect x={h.hour * 10 + 1} y={75 - inH} width={8} height={inH} className="bar-in" />
                </g>
              );
            })}
            <line x1="0" y1="75.5" x2="240" y2="75.5" className="axis" />
          </svg>
          <div className="legend small">
            <span className="key in" /> customers <span className="key out" /> team · 0h … 23h
          </div>
        </figure>
        <figure className="chart">
          <figcaption>SLA attainment</figcaption>
          {(f.sla?.targets ?? []).length === 0 && <p className="muted small">No SLA targets decided yet.</p>}
          {(f.sla?.targets ?? []).map((t) => (
            <div key={t.target} className="attain">
              <span>{TARGETS[t.target] ?? t.target}</span>
              <span className="meter" aria-hidden="true">
                <span style={{ width: `${t.attainmentPercent ?? 0}%` }} />
              </span>
              <span>
                {t.attainmentPercent === null ? '—' : `${t.attainmentPercent.toFixed(0)} %`} <span className="muted small">({t.met}/{t.decided})</span>
              </span>
            </div>
          ))}
        </figure>
      </div>
    </section>
  );
}

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="stat">
      <div className="muted small">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}
