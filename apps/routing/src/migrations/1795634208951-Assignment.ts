import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Automatic assignment: agents (a projection of the gateway's users, plus availability, capacity and skills),
 * their teams, their web clients (for the idle/disconnect timeouts), team strategies, ordered rules, and the
 * queue columns of a conversation's work state (when it entered the queue, when it was assigned, since when the
 * customer waits, the skills it needs, what the rules saw).
 */
export class Assignment1795634208951 implements MigrationInterface {
  name = 'Assignment1795634208951';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing.conversation_work
      ADD COLUMN queued_at timestamptz,
      ADD COLUMN assigned_at timestamptz,
      ADD COLUMN waiting_since timestamptz,
      ADD COLUMN last_owner_id uuid,
      ADD COLUMN required_skills text[] NOT NULL DEFAULT '{}',
      ADD COLUMN route_context jsonb,
      ADD COLUMN priority_rank smallint GENERATED ALWAYS AS (
        CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END) STORED`);
    await q.query(`UPDATE routing.conversation_work SET queued_at = opened_at WHERE owner_id IS NULL`);
    await q.query(`UPDATE routing.conversation_work SET last_owner_id = owner_id, assigned_at = updated_at WHERE owner_id IS NOT NULL`);
    await q.query(`CREATE INDEX conversation_work_queue_ix ON routing.conversation_work (team_id, priority_rank, queued_at, conversation_id)
      WHERE owner_id IS NULL AND status = 'open'`);
    await q.query(`CREATE INDEX conversation_work_contact_owner_ix ON routing.conversation_work (contact_id, assigned_at DESC)
      WHERE last_owner_id IS NOT NULL`);
    await q.query(`CREATE INDEX conversation_work_waiting_ix ON routing.conversation_work (waiting_since)
      WHERE owner_id IS NOT NULL AND status = 'open' AND waiting_since IS NOT NULL`);

    await q.query(`CREATE TABLE routing.agent (
      user_id uuid PRIMARY KEY,
      name text,
      role text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      status text NOT NULL DEFAULT 'offline' CONSTRAINT agent_status_ck CHECK (status IN ('online', 'away', 'offline')),
      status_since timestamptz NOT NULL DEFAULT clock_timestamp(),
      status_set_by text NOT NULL DEFAULT 'agent' CONSTRAINT agent_status_set_by_ck CHECK (status_set_by IN ('agent', 'auto')),
      max_open int,
      skills text[] NOT NULL DEFAULT '{}',
      last_assigned_at timestamptz,
      directory_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE TABLE routing.agent_team (
      team_id uuid NOT NULL,
      user_id uuid NOT NULL REFERENCES routing.agent (user_id) ON DELETE CASCADE,
      PRIMARY KEY (team_id, user_id))`);
    await q.query(`CREATE INDEX agent_team_user_ix ON routing.agent_team (user_id)`);
    await q.query(`CREATE TABLE routing.agent_client (
      client_id text PRIMARY KEY,
      user_id uuid NOT NULL,
      connected boolean NOT NULL,
      last_seen_at timestamptz NOT NULL,
      last_active_at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX agent_client_user_ix ON routing.agent_client (user_id)`);
    await q.query(`CREATE TABLE routing.team_routing (
      team_id uuid PRIMARY KEY,
      strategy text NOT NULL CONSTRAINT team_routing_strategy_ck CHECK (strategy IN ('round_robin', 'least_loaded', 'sticky', 'manual')),
      sticky_days int NOT NULL DEFAULT 30,
      max_open_per_agent int,
      max_open_team int,
      reassign_unanswered_minutes int,
      on_owner_offline text NOT NULL DEFAULT 'keep' CONSTRAINT team_routing_offline_ck CHECK (on_owner_offline IN ('keep', 'queue', 'reassign')),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE TABLE routing.rule (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      position int NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      conditions jsonb NOT NULL,
      actions jsonb NOT NULL,
      team_id uuid,
      version int NOT NULL DEFAULT 1,
      error_count int NOT NULL DEFAULT 0,
      last_error text,
      last_error_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE INDEX rule_position_ix ON routing.rule (position, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.rule`);
    await q.query(`DROP TABLE routing.team_routing`);
    await q.query(`DROP TABLE routing.agent_client`);
    await q.query(`DROP TABLE routing.agent_team`);
    await q.query(`DROP TABLE routing.agent`);
    await q.query(`ALTER TABLE routing.conversation_work DROP COLUMN priority_rank, DROP COLUMN route_context,
      DROP COLUMN required_skills, DROP COLUMN last_owner_id, DROP COLUMN waiting_since, DROP COLUMN assigned_at, DROP COLUMN queued_at`);
  }
}
