import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 8: the reporting projection (facts from INBOX_EVENTS, each row keyed by its event id so a redelivery
 * changes nothing), the pre-aggregated conversation episodes, and the current work state for the live dashboard.
 * Definitions of every figure: docs/METRICS.md.
 */
export class Reports1795636002073 implements MigrationInterface {
  name = 'Reports1795636002073';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE sla.rpt_open (
      event_id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      phone_number_id text NOT NULL,
      reopened boolean NOT NULL,
      at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX rpt_open_conversation_ix ON sla.rpt_open (conversation_id, at)`);
    await q.query(`CREATE INDEX rpt_open_at_ix ON sla.rpt_open (at)`);
    await q.query(`CREATE TABLE sla.rpt_message (
      event_id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      phone_number_id text NOT NULL,
      team_id uuid,
      direction text NOT NULL CONSTRAINT rpt_message_direction_ck CHECK (direction IN ('in', 'out')),
      sender_id text,
      at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX rpt_message_at_ix ON sla.rpt_message (at, event_id)`);
    await q.query(`CREATE INDEX rpt_message_conversation_ix ON sla.rpt_message (conversation_id, at)`);
    await q.query(`CREATE INDEX rpt_message_sender_ix ON sla.rpt_message (sender_id, at) WHERE sender_id IS NOT NULL`);
    await q.query(`CREATE TABLE sla.rpt_resolve (
      event_id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      resolved_by text,
      at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX rpt_resolve_conversation_ix ON sla.rpt_resolve (conversation_id, at)`);
    await q.query(`CREATE TABLE sla.rpt_state (
      event_id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      version int NOT NULL,
      team_id uuid,
      owner_id uuid,
      status text NOT NULL,
      at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX rpt_state_conversation_ix ON sla.rpt_state (conversation_id, at, version)`);
    await q.query(`CREATE TABLE sla.rpt_assign (
      event_id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      reason text NOT NULL,
      team_id uuid,
      owner_id uuid,
      prev_team_id uuid,
      prev_owner_id uuid,
      actor_type text NOT NULL,
      at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX rpt_assign_at_ix ON sla.rpt_assign (at)`);
    await q.query(`CREATE TABLE sla.rpt_agent_status (
      event_id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      status text NOT NULL,
      at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX rpt_agent_status_user_ix ON sla.rpt_agent_status (user_id, at)`);
    // pre-aggregated: one row per conversation episode (opened → next opening), recomputed from the facts above
    await q.query(`CREATE TABLE sla.rpt_episode (
      conversation_id uuid NOT NULL,
      opened_at timestamptz NOT NULL,
      phone_number_id text NOT NULL,
      team_id uuid,
      first_response_at timestamptz,
      responder_id text,
      frt_ms bigint,
      frt_business_ms bigint,
      resolved_at timestamptz,
      resolver_id text,
      resolution_ms bigint,
      resolution_business_ms bigint,
      PRIMARY KEY (conversation_id, opened_at))`);
    await q.query(`CREATE INDEX rpt_episode_frt_ix ON sla.rpt_episode (first_response_at, conversation_id) WHERE first_response_at IS NOT NULL`);
    await q.query(`CREATE INDEX rpt_episode_resolved_ix ON sla.rpt_episode (resolved_at, conversation_id) WHERE resolved_at IS NOT NULL`);
    // the live dashboard's work state (latest routing version wins)
    await q.query(`CREATE TABLE sla.rpt_work (
      conversation_id uuid PRIMARY KEY,
      team_id uuid,
      owner_id uuid,
      status text NOT NULL,
      version int NOT NULL,
      opened_at timestamptz,
      queued_since timestamptz)`);
    await q.query(`CREATE INDEX rpt_work_team_ix ON sla.rpt_work (team_id, status) WHERE status <> 'resolved'`);
    await q.query(`CREATE INDEX rpt_work_owner_ix ON sla.rpt_work (owner_id, status) WHERE status <> 'resolved'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['rpt_work', 'rpt_episode', 'rpt_agent_status', 'rpt_assign', 'rpt_state', 'rpt_resolve', 'rpt_message', 'rpt_open']) await q.query(`DROP TABLE sla.${t}`);
  }
}
