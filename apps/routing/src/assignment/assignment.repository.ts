import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AgentStatusChangedV1, type AgentRef, type AgentStatus, type AgentView, type RuleView, type Strategy, type TeamRouting } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { randomUUID } from 'node:crypto';
import type { StoredRule } from './rules';

const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

/** Conversations that count against an agent's capacity. */
export const OPEN_STATUSES = `('open', 'pending')`;
const OPEN_COUNT = `(SELECT count(*) FROM routing.conversation_work w WHERE w.owner_id = a.user_id AND w.status IN ${OPEN_STATUSES})::int`;

const AGENT_COLS = `a.user_id, a.name, a.role, a.status, a.status_since, a.status_set_by, a.max_open, a.skills,
  coalesce((SELECT array_agg(m.team_id ORDER BY m.team_id) FROM routing.agent_team m WHERE m.user_id = a.user_id), '{}') AS team_ids,
  ${OPEN_COUNT} AS open_count,
  (SELECT max(c.last_active_at) FROM routing.agent_client c WHERE c.user_id = a.user_id) AS last_active_at`;

const toAgent = (r: Record<string, any>): AgentView => ({
  userId: r.user_id,
  name: r.name,
  role: r.role,
  teamIds: r.team_ids,
  status: r.status,
  statusSince: iso(r.status_since)!,
  statusSetBy: r.status_set_by,
  maxOpen: r.max_open,
  skills: r.skills,
  openCount: r.open_count,
  lastActiveAt: iso(r.last_active_at),
});

export const DEFAULT_TEAM_ROUTING = (teamId: string): TeamRouting => ({
  teamId,
  strategy: 'manual',
  stickyDays: 30,
  maxOpenPerAgent: null,
  maxOpenTeam: null,
  reassignUnansweredMinutes: null,
  onOwnerOffline: 'keep',
  updatedAt: null,
});

const toTeamRouting = (r: Record<string, any>): TeamRouting => ({
  teamId: r.team_id,
  strategy: r.strategy,
  stickyDays: r.sticky_days,
  maxOpenPerAgent: r.max_open_per_agent,
  maxOpenTeam: r.max_open_team,
  reassignUnansweredMinutes: r.reassign_unanswered_minutes,
  onOwnerOffline: r.on_owner_offline,
  updatedAt: iso(r.updated_at),
});

/** Agents: routing's projection of the gateway's users, with availability, capacity and skills. */
@Injectable()
export class AgentRepository {
  constructor(private readonly outbox: OutboxWriter) {}

  /**
   * Name, role, active flag and teams as the gateway says at `at` (a directory event, or a request the gateway
   * just resolved). An older statement than the one applied is ignored (events may arrive out of order).
   */
  async project(em: EntityManager, u: AgentRef & { active: boolean }, at: string | null): Promise<boolean> {
    const rows = await em.query(
      `INSERT INTO routing.agent AS a (user_id, name, role, active, directory_at) VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, clock_timestamp()))
       ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, role = excluded.role, active = excluded.active,
         directory_at = excluded.directory_at, updated_at = clock_timestamp()
       WHERE a.directory_at IS NULL OR a.directory_at <= excluded.directory_at
       RETURNING user_id`,
      [u.id, u.name, u.role, u.active, at],
    );
    if (!rows.length) return false;
    await em.query(`DELETE FROM routing.agent_team WHERE user_id = $1 AND team_id <> ALL($2::uuid[])`, [u.id, u.teamIds]);
    if (u.teamIds.length)
      await em.query(`INSERT INTO routing.agent_team (team_id, user_id) SELECT t, $1 FROM unnest($2::uuid[]) t ON CONFLICT DO NOTHING`, [
        u.id,
        u.teamIds,
      ]);
    return true;
  }

  async view(em: EntityManager, userId: string): Promise<AgentView | null> {
    const rows = await em.query(`SELECT ${AGENT_COLS} FROM routing.agent a WHERE a.user_id = $1`, [userId]);
    return rows[0] ? toAgent(rows[0]) : null;
  }

  /** Active agents of these teams (null = all), optionally of one team. */
  async list(em: EntityManager, teamIds: string[] | null, teamId?: string): Promise<AgentView[]> {
    const rows = await em.query(
      `SELECT ${AGENT_COLS} FROM routing.agent a
       WHERE a.active AND a.role <> 'viewer'
         AND ($1::uuid[] IS NULL OR EXISTS (SELECT 1 FROM routing.agent_team m WHERE m.user_id = a.user_id AND m.team_id = ANY($1::uuid[])))
         AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM routing.agent_team m WHERE m.user_id = a.user_id AND m.team_id = $2))
       ORDER BY a.name NULLS LAST, a.user_id LIMIT 2000`,
      [teamIds, teamId ?? null],
    );
    return rows.map(toAgent);
  }

  /** Locks the agent row (status changes and capacity checks of one agent queue behind each other). */
  async lock(em: EntityManager, userId: string): Promise<{ status: AgentStatus; maxOpen: number | null; setBy: string; active: boolean; role: string } | null> {
    const rows = await em.query(`SELECT status, max_open, status_set_by, active, role FROM routing.agent WHERE user_id = $1 FOR UPDATE`, [userId]);
    return rows[0] ? { status: rows[0].status, maxOpen: rows[0].max_open, setBy: rows[0].status_set_by, active: rows[0].active, role: rows[0].role } : null;
  }

  async setStatus(em: EntityManager, userId: string, status: AgentStatus, by: 'agent' | 'auto', at: Date): Promise<void> {
    // through TypeORM an UPDATE … RETURNING yields [rows, count]
    const [[row]] = await em.query(
      `UPDATE routing.agent a SET status = $2, status_set_by = $3, status_since = $4, updated_at = clock_timestamp()
       FROM (SELECT status AS previous FROM routing.agent WHERE user_id = $1) b WHERE a.user_id = $1
       RETURNING b.previous, ARRAY(SELECT team_id FROM routing.agent_team m WHERE m.user_id = $1) AS team_ids`,
      [userId, status, by, at],
    );
    // issue 8 (reports): every availability change is an event, for online time and the live dashboard
    if (row && row.previous !== status)
      await this.outbox.add(em, AgentStatusChangedV1, {
        eventId: randomUUID(),
        occurredAt: at.toISOString(),
        userId,
        status,
        previous: row.previous,
        setBy: by,
        teamIds: row.team_ids ?? [],
      });
  }

  async setCapacity(em: EntityManager, userId: string, maxOpen: number | null, skills: string[]): Promise<void> {
    await em.query(`UPDATE routing.agent SET max_open = $2, skills = $3, updated_at = clock_timestamp() WHERE user_id = $1`, [
      userId,
      maxOpen,
      skills,
    ]);
  }

  /** Open conversations owned now (a fresh statement: sees every commit before it). */
  async openCount(em: EntityManager, userId: string): Promise<number> {
    const rows = await em.query(`SELECT count(*)::int AS n FROM routing.conversation_work WHERE owner_id = $1 AND status IN ${OPEN_STATUSES}`, [userId]);
    return rows[0].n;
  }

  async teamOpenCount(em: EntityManager, teamId: string): Promise<number> {
    const rows = await em.query(
      `SELECT count(*)::int AS n FROM routing.conversation_work WHERE team_id = $1 AND owner_id IS NOT NULL AND status IN ${OPEN_STATUSES}`,
      [teamId],
    );
    return rows[0].n;
  }

  /**
   * Online agents of the team who may take one more conversation, in the strategy's order, locked with
   * SKIP LOCKED (rows another transaction is assigning to are passed over, never waited for). The load filter
   * here is only a pre-filter: the caller re-counts after the lock.
   */
  async candidates(
    em: EntityManager,
    q: { teamId: string; strategy: Exclude<Strategy, 'manual' | 'sticky'>; skills: string[]; exclude: string[]; teamCap: number | null; only?: string; limit: number },
  ): Promise<{ userId: string; cap: number | null }[]> {
    return this.lockCandidates(em, q, false);
  }

  /**
   * `candidates` for a batch of conversations: up to `limit` agents locked by one statement, each with the load the
   * statement saw (the order least loaded starts from; a capacity check still needs `openCounts` after the lock).
   */
  async candidatesWithLoad(
    em: EntityManager,
    q: { teamId: string; strategy: Exclude<Strategy, 'manual' | 'sticky'>; skills: string[]; teamCap: number | null; limit: number },
  ): Promise<{ userId: string; cap: number | null; open: number }[]> {
    return this.lockCandidates(em, { ...q, exclude: [] }, true) as Promise<{ userId: string; cap: number | null; open: number }[]>;
  }

  private async lockCandidates(
    em: EntityManager,
    q: { teamId: string; strategy: Exclude<Strategy, 'manual' | 'sticky'>; skills: string[]; exclude: string[]; teamCap: number | null; only?: string; limit: number },
    withLoad: boolean,
  ): Promise<{ userId: string; cap: number | null; open?: number }[]> {
    const order =
      q.strategy === 'least_loaded' ? `${OPEN_COUNT}, a.last_assigned_at NULLS FIRST, a.user_id` : `a.last_assigned_at NULLS FIRST, a.user_id`;
    const rows = await em.query(
      `SELECT a.user_id, least(a.max_open, $4::int) AS cap${withLoad ? `, ${OPEN_COUNT} AS open` : ''} FROM routing.agent a
       JOIN routing.agent_team m ON m.user_id = a.user_id AND m.team_id = $1
       WHERE a.status = 'online' AND a.active AND a.role <> 'viewer'
         AND a.skills @> $2::text[] AND a.user_id <> ALL($3::uuid[])
         AND ($5::uuid IS NULL OR a.user_id = $5)
         AND (least(a.max_open, $4::int) IS NULL OR ${OPEN_COUNT} < least(a.max_open, $4::int))
       ORDER BY ${order}
       LIMIT $6 FOR UPDATE OF a SKIP LOCKED`,
      [q.teamId, q.skills, q.exclude, q.teamCap, q.only ?? null, q.limit],
    );
    return rows.map((r: any) => (withLoad ? { userId: r.user_id, cap: r.cap, open: r.open } : { userId: r.user_id, cap: r.cap }));
  }

  /** `openCount` of several agents in one statement (0 for those owning none). */
  async openCounts(em: EntityManager, userIds: string[]): Promise<Map<string, number>> {
    const rows = await em.query(
      `SELECT owner_id, count(*)::int AS n FROM routing.conversation_work WHERE owner_id = ANY($1::uuid[]) AND status IN ${OPEN_STATUSES} GROUP BY owner_id`,
      [userIds],
    );
    const counts = new Map<string, number>(userIds.map((id) => [id, 0]));
    for (const r of rows) counts.set(r.owner_id, r.n);
    return counts;
  }

  async markAssigned(em: EntityManager, userId: string): Promise<void> {
    await em.query(`UPDATE routing.agent SET last_assigned_at = clock_timestamp() WHERE user_id = $1`, [userId]);
  }

  /** The customer's most recent owner within the window (sticky strategy). */
  async previousOwner(em: EntityManager, contactId: string, conversationId: string, since: Date): Promise<string | null> {
    const rows = await em.query(
      `SELECT last_owner_id FROM routing.conversation_work
       WHERE contact_id = $1 AND last_owner_id IS NOT NULL AND assigned_at >= $3
         AND (conversation_id <> $2 OR owner_id IS NULL)
       ORDER BY assigned_at DESC LIMIT 1`,
      [contactId, conversationId, since],
    );
    return rows[0]?.last_owner_id ?? null;
  }

  /** One gateway report: upserts each client's last sight and activity. */
  async reportClients(em: EntityManager, clients: { userId: string; clientId: string; connected: boolean; lastActiveAt: string }[], now: Date): Promise<void> {
    if (!clients.length) return;
    await em.query(
      `INSERT INTO routing.agent_client (client_id, user_id, connected, last_seen_at, last_active_at)
       SELECT c.client_id, c.user_id, c.connected, $2, c.last_active_at
       FROM jsonb_to_recordset($1::jsonb) AS c(client_id text, user_id uuid, connected boolean, last_active_at timestamptz)
       ON CONFLICT (client_id) DO UPDATE SET connected = excluded.connected AND routing.agent_client.connected,
         last_seen_at = excluded.last_seen_at, last_active_at = greatest(routing.agent_client.last_active_at, excluded.last_active_at)`,
      [JSON.stringify(clients.map((c) => ({ client_id: c.clientId, user_id: c.userId, connected: c.connected, last_active_at: c.lastActiveAt }))), now],
    );
  }

  /**
   * Agents whose web clients say they should change status now (rows locked SKIP LOCKED, so replicas share it):
   * online/away with no client seen within the disconnect timeout → offline; online with clients but no activity
   * within the idle timeout → away; away/offline set by the timeouts with an active client again → online.
   * Agents that never had a web client (API-only) are left alone.
   */
  async dueAutoStatus(em: EntityManager, now: Date, idleMs: number, offlineMs: number, limit: number): Promise<{ userId: string; next: AgentStatus }[]> {
    const rows = await em.query(
      `WITH c AS (
         SELECT user_id,
           bool_or(connected AND last_seen_at > $1::timestamptz - make_interval(secs => $3 / 1000.0)) AS live,
           max(last_seen_at) AS seen,
           max(last_active_at) FILTER (WHERE connected AND last_seen_at > $1::timestamptz - make_interval(secs => $3 / 1000.0)) AS active
         FROM routing.agent_client GROUP BY user_id)
       SELECT a.user_id, CASE
           WHEN NOT c.live AND a.status <> 'offline' AND greatest(c.seen, a.status_since) <= $1::timestamptz - make_interval(secs => $3 / 1000.0) THEN 'offline'
           WHEN c.live AND a.status = 'online' AND greatest(c.active, a.status_since) <= $1::timestamptz - make_interval(secs => $2 / 1000.0) THEN 'away'
           WHEN c.live AND a.status <> 'online' AND a.status_set_by = 'auto' AND c.active > $1::timestamptz - make_interval(secs => $2 / 1000.0) THEN 'online'
         END AS next
       FROM routing.agent a JOIN c ON c.user_id = a.user_id
       WHERE a.active AND (
           (NOT c.live AND a.status <> 'offline' AND greatest(c.seen, a.status_since) <= $1::timestamptz - make_interval(secs => $3 / 1000.0))
        OR (c.live AND a.status = 'online' AND greatest(c.active, a.status_since) <= $1::timestamptz - make_interval(secs => $2 / 1000.0))
        OR (c.live AND a.status <> 'online' AND a.status_set_by = 'auto' AND c.active > $1::timestamptz - make_interval(secs => $2 / 1000.0)))
       LIMIT $4 FOR UPDATE OF a SKIP LOCKED`,
      [now, idleMs, offlineMs, limit],
    );
    return rows.map((r: any) => ({ userId: r.user_id, next: r.next }));
  }

  /** Forget clients gone for a day. */
  async pruneClients(em: EntityManager, now: Date): Promise<void> {
    await em.query(`DELETE FROM routing.agent_client WHERE last_seen_at < $1::timestamptz - interval '1 day'`, [now]);
  }
}

@Injectable()
export class TeamRoutingRepository {
  async get(em: EntityManager, teamId: string, lock = false): Promise<TeamRouting> {
    const rows = await em.query(`SELECT * FROM routing.team_routing WHERE team_id = $1 ${lock ? 'FOR UPDATE' : ''}`, [teamId]);
    return rows[0] ? toTeamRouting(rows[0]) : DEFAULT_TEAM_ROUTING(teamId);
  }

  /** `get` for several teams in one statement; with `lock`, the rows are locked in team id order. */
  async getMany(em: EntityManager, teamIds: string[], lock = false): Promise<Map<string, TeamRouting>> {
    const rows = await em.query(`SELECT * FROM routing.team_routing WHERE team_id = ANY($1::uuid[]) ORDER BY team_id ${lock ? 'FOR UPDATE' : ''}`, [teamIds]);
    const out = new Map(teamIds.map((id) => [id, DEFAULT_TEAM_ROUTING(id)]));
    for (const r of rows) out.set(r.team_id, toTeamRouting(r));
    return out;
  }

  async put(em: EntityManager, s: Omit<TeamRouting, 'updatedAt'>): Promise<TeamRouting> {
    const rows = await em.query(
      `INSERT INTO routing.team_routing (team_id, strategy, sticky_days, max_open_per_agent, max_open_team, reassign_unanswered_minutes, on_owner_offline)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (team_id) DO UPDATE SET strategy = excluded.strategy, sticky_days = excluded.sticky_days,
         max_open_per_agent = excluded.max_open_per_agent, max_open_team = excluded.max_open_team,
         reassign_unanswered_minutes = excluded.reassign_unanswered_minutes, on_owner_offline = excluded.on_owner_offline,
         updated_at = clock_timestamp()
       RETURNING *`,
      [s.teamId, s.strategy, s.stickyDays, s.maxOpenPerAgent, s.maxOpenTeam, s.reassignUnansweredMinutes, s.onOwnerOffline],
    );
    return toTeamRouting(rows[0]);
  }

  /** Teams whose strategy assigns by itself and whose queue is not empty. */
  async withQueue(em: EntityManager): Promise<string[]> {
    const rows = await em.query(
      `SELECT t.team_id FROM routing.team_routing t WHERE t.strategy <> 'manual'
         AND EXISTS (SELECT 1 FROM routing.conversation_work w WHERE w.team_id = t.team_id AND w.owner_id IS NULL AND w.bot_id IS NULL AND w.status = 'open')`,
    );
    return rows.map((r: any) => r.team_id);
  }
}

const toRule = (r: Record<string, any>): RuleView & StoredRule => ({
  id: r.id,
  name: r.name,
  position: r.position,
  enabled: r.enabled,
  conditions: r.conditions,
  actions: r.actions,
  version: r.version,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
  errorCount: r.error_count,
  lastError: r.last_error,
});
export type RuleRow = ReturnType<typeof toRule>;

@Injectable()
export class RuleRepository {
  async all(em: EntityManager, enabledOnly = false): Promise<RuleRow[]> {
    const rows = await em.query(`SELECT * FROM routing.rule ${enabledOnly ? 'WHERE enabled' : ''} ORDER BY position, created_at`);
    return rows.map(toRule);
  }

  async find(em: EntityManager, id: string): Promise<RuleRow | null> {
    const rows = await em.query(`SELECT * FROM routing.rule WHERE id = $1`, [id]);
    return rows[0] ? toRule(rows[0]) : null;
  }

  /** Rule edits are rare: one at a time, so positions stay 1..n without gaps. */
  async lockAll(em: EntityManager): Promise<void> {
    await em.query(`LOCK TABLE routing.rule IN SHARE ROW EXCLUSIVE MODE`);
  }

  async count(em: EntityManager): Promise<number> {
    return (await em.query(`SELECT count(*)::int AS n FROM routing.rule`))[0].n;
  }

  async shift(em: EntityManager, fromPosition: number, by: 1 | -1, toPosition = 2 ** 31 - 1): Promise<void> {
    await em.query(`UPDATE routing.rule SET position = position + $2 WHERE position >= $1 AND position <= $3`, [fromPosition, by, toPosition]);
  }

  async insert(em: EntityManager, r: { name: string; position: number; enabled: boolean; conditions: unknown; actions: { teamId?: string } }): Promise<RuleRow> {
    const rows = await em.query(
      `INSERT INTO routing.rule (name, position, enabled, conditions, actions, team_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [r.name, r.position, r.enabled, JSON.stringify(r.conditions), JSON.stringify(r.actions), r.actions.teamId ?? null],
    );
    return toRule(rows[0]);
  }

  async update(em: EntityManager, r: { id: string; name: string; position: number; enabled: boolean; conditions: unknown; actions: { teamId?: string } }): Promise<RuleRow> {
    const [rows] = await em.query(
      `UPDATE routing.rule SET name = $2, position = $3, enabled = $4, conditions = $5, actions = $6, team_id = $7,
         version = version + 1, updated_at = clock_timestamp() WHERE id = $1 RETURNING *`,
      [r.id, r.name, r.position, r.enabled, JSON.stringify(r.conditions), JSON.stringify(r.actions), r.actions.teamId ?? null],
    );
    return toRule(rows[0]);
  }

  async setPosition(em: EntityManager, id: string, position: number): Promise<void> {
    await em.query(`UPDATE routing.rule SET position = $2, updated_at = clock_timestamp() WHERE id = $1`, [id, position]);
  }

  async delete(em: EntityManager, id: string): Promise<void> {
    await em.query(`DELETE FROM routing.rule WHERE id = $1`, [id]);
  }

  /** A rule failed at run time: counted and kept for the API (the conversation went on without it). */
  async recordError(em: EntityManager, id: string, message: string): Promise<void> {
    await em.query(
      `UPDATE routing.rule SET error_count = error_count + 1, last_error = $2, last_error_at = clock_timestamp() WHERE id = $1`,
      [id, message.slice(0, 500)],
    );
  }
}
