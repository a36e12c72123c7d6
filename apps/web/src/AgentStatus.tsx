import { useEffect, useState } from 'react';
import { api } from './lib/api';
import { useApp } from './lib/context';

type Status = 'online' | 'away' | 'offline';

/**
 * My availability for automatic assignment (routing): online / away / offline. Shown when the gateway has
 * GET /api/v1/me/status; a person without it (or an older gateway) sees nothing.
 */
export function AgentStatus() {
  const { me, toast } = useApp();
  const [status, setStatus] = useState<Status | null>(null);
  useEffect(() => {
    if (me.role === 'viewer') return;
    // one's own status: GET /api/v1/agents is for managers and answers 403 to an agent
    api<{ status: Status }>('/api/v1/me/status')
      .then((r) => setStatus(r.status ?? 'offline'))
      .catch(() => setStatus(null));
  }, [me]);
  if (!status) return null;
  return (
    <select
      className={`agent-status status-${status}`}
      aria-label="My status"
      value={status}
      onChange={async (e) => {
        const next = e.target.value as Status;
        try {
          await api('/api/v1/me/status', { method: 'PUT', body: { status: next } });
          setStatus(next);
        } catch (err) {
          toast(`Status not changed: ${err instanceof Error ? err.message : err}`, 'error');
        }
      }}
    >
      <option value="online">● Online</option>
      <option value="away">◐ Away</option>
      <option value="offline">○ Offline</option>
    </select>
  );
}
