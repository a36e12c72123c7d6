import { createContext, useContext, useEffect, useState } from 'react';
import type { Realtime } from './realtime';
import type { Label, Me, Team, User } from './types';

export interface Directory {
  users: Map<string, User>;
  teams: Map<string, Team>;
  labels: Label[];
}

export interface AppCtx {
  me: Me;
  rt: Realtime;
  dir: Directory;
  reloadDirectory(): void;
  toast(message: string, kind?: 'info' | 'error'): void;
}

export const AppContext = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const c = useContext(AppContext);
  if (!c) throw new Error('useApp outside AppContext');
  return c;
}

/** Re-renders every `ms` (countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function userName(dir: Directory, id: string | null | undefined): string {
  if (!id) return 'nobody';
  return dir.users.get(id)?.name ?? 'a former user';
}

export function teamName(dir: Directory, id: string | null | undefined): string {
  if (!id) return 'no team';
  return dir.teams.get(id)?.name ?? 'a team';
}
