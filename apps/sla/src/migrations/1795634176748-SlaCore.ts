import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SLA policies, business hours, the conversation projection (team, owner, status, window), clocks, reminders,
 * follow-up rules, the escalation log, and ONE durable timer table that every replica polls (SKIP LOCKED).
 */
export class SlaCore1795634176748 implements MigrationInterface {
  name = 'SlaCore1795634176748';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE sla.business_hours (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      time_zone text NOT NULL,
      weekly jsonb NOT NULL,
      holidays jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE sla.policy (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      team_id uuid NOT NULL,
      priority text,
      first_response_minutes int NOT NULL CONSTRAINT policy_first_ck CHECK (first_response_minutes > 0),
      next_response_minutes int CONSTRAINT policy_next_ck CHECK (next_response_minutes > 0),
      resolution_minutes int CONSTRAINT policy_resolution_ck CHECK (resolution_minutes > 0),
      business_hours_id uuid REFERENCES sla.business_hours (id),
      warn_at_percent int NOT NULL DEFAULT 80,
      on_breach text NOT NULL DEFAULT 'none',
      raise_to text NOT NULL DEFAULT 'urgent',
      window_warning_minutes int NOT NULL DEFAULT 120,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE UNIQUE INDEX policy_team_priority_uq ON sla.policy (team_id, coalesce(priority, ''))`);
    await q.query(`CREATE TABLE sla.conversation (
      conversation_id uuid PRIMARY KEY,
      phone_number_id text,
      contact_id uuid,
      team_id uuid,
      owner_id uuid,
      status text NOT NULL DEFAULT 'open',
      priority text NOT NULL DEFAULT 'normal',
      routing_version int NOT NULL DEFAULT 0,
      cycle_start_at timestamptz,
      first_reply_at timestamptz,
      awaiting_since timestamptz,
      last_inbound_at timestamptz,
      window_closes_at timestamptz,
      pending_since timestamptz,
      follow_ups_sent int NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE sla.clock (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      conversation_id uuid NOT NULL REFERENCES sla.conversation (conversation_id),
      target text NOT NULL,
      started_at timestamptz NOT NULL,
      policy_id uuid,
      target_ms bigint NOT NULL,
      warn_at_percent int NOT NULL,
      paused_ms bigint NOT NULL DEFAULT 0,
      paused_since timestamptz,
      due_at timestamptz,
      warn_at timestamptz,
      state text NOT NULL DEFAULT 'ok',
      warned_at timestamptz,
      breached_at timestamptz,
      met_at timestamptz,
      closed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE UNIQUE INDEX clock_active_uq ON sla.clock (conversation_id, target) WHERE closed_at IS NULL`);
    await q.query(`CREATE INDEX clock_conversation_ix ON sla.clock (conversation_id, started_at)`);
    await q.query(`CREATE INDEX clock_due_ix ON sla.clock (due_at) WHERE closed_at IS NULL AND met_at IS NULL`);
    await q.query(`CREATE TABLE sla.reminder (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      conversation_id uuid NOT NULL,
      user_id text NOT NULL,
      at timestamptz NOT NULL,
      note text,
      state text NOT NULL DEFAULT 'pending',
      fired_at timestamptz,
      cancelled_reason text,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX reminder_conversation_ix ON sla.reminder (conversation_id)`);
    await q.query(`CREATE TABLE sla.follow_up_rule (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      team_id uuid NOT NULL,
      after_minutes int NOT NULL CHECK (after_minutes > 0),
      action text NOT NULL,
      template jsonb,
      max_times int NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX follow_up_rule_team_ix ON sla.follow_up_rule (team_id)`);
    await q.query(`CREATE TABLE sla.escalation (
      id uuid PRIMARY KEY,
      seq bigserial NOT NULL,
      conversation_id uuid NOT NULL,
      target text NOT NULL,
      level text NOT NULL,
      actions jsonb NOT NULL,
      late boolean NOT NULL,
      at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX escalation_conversation_ix ON sla.escalation (conversation_id, at)`);
    // every due time lives here; a row fires once (status pending → fired) under its row lock
    await q.query(`CREATE TABLE sla.timer (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      conversation_id uuid NOT NULL,
      ref text NOT NULL DEFAULT '',
      due_at timestamptz NOT NULL,
      payload jsonb,
      status text NOT NULL DEFAULT 'pending',
      attempts int NOT NULL DEFAULT 0,
      fired_at timestamptz,
      fired_by text,
      late boolean,
      last_error text)`);
    await q.query(`CREATE UNIQUE INDEX timer_pending_uq ON sla.timer (kind, conversation_id, ref) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX timer_due_ix ON sla.timer (due_at) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['timer', 'escalation', 'follow_up_rule', 'reminder', 'clock', 'conversation', 'policy', 'business_hours'])
      await q.query(`DROP TABLE sla.${t}`);
  }
}
