import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A conversation's work state (team, owner, status, priority, labels, version), internal notes, the default
 * team of each business number, and the append-only audit trail (a trigger refuses UPDATE, DELETE, TRUNCATE).
 */
export class WorkState1764097200000 implements MigrationInterface {
  name = 'WorkState1764097200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.number_team (
      phone_number_id text PRIMARY KEY,
      team_id uuid,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE TABLE routing.conversation_work (
      conversation_id uuid PRIMARY KEY,
      phone_number_id text NOT NULL,
      contact_id uuid NOT NULL,
      team_id uuid,
      owner_id uuid,
      status text NOT NULL DEFAULT 'open'
        CONSTRAINT conversation_work_status_ck CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
      snooze_until timestamptz,
      priority text NOT NULL DEFAULT 'normal'
        CONSTRAINT conversation_work_priority_ck CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
      labels text[] NOT NULL DEFAULT '{}',
      version int NOT NULL DEFAULT 1,
      opened_at timestamptz NOT NULL,
      last_message_at timestamptz,
      activity_at timestamptz NOT NULL,
      resolved_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      CONSTRAINT conversation_work_snooze_ck CHECK (status <> 'snoozed' OR snooze_until IS NOT NULL))`);
    await q.query(`CREATE INDEX conversation_work_activity_ix ON routing.conversation_work (activity_at DESC, conversation_id DESC)`);
    await q.query(
      `CREATE INDEX conversation_work_team_ix ON routing.conversation_work (team_id, status, activity_at DESC, conversation_id DESC)`,
    );
    await q.query(
      `CREATE INDEX conversation_work_owner_ix ON routing.conversation_work (owner_id, status, activity_at DESC, conversation_id DESC)`,
    );
    await q.query(`CREATE INDEX conversation_work_labels_ix ON routing.conversation_work USING gin (labels)`);
    await q.query(`CREATE TABLE routing.note (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      conversation_id uuid NOT NULL REFERENCES routing.conversation_work (conversation_id),
      author_type text NOT NULL,
      author_id text NOT NULL,
      author_name text,
      body text NOT NULL,
      mentions uuid[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE INDEX note_conversation_ix ON routing.note (conversation_id, created_at)`);
    await q.query(`CREATE TABLE routing.audit_entry (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id uuid NOT NULL DEFAULT gen_random_uuid(),
      conversation_id uuid,
      team_id uuid,
      actor_type text NOT NULL CONSTRAINT audit_entry_actor_type_ck CHECK (actor_type IN ('user', 'api_key', 'system')),
      actor_id text,
      actor_name text,
      action text NOT NULL,
      before jsonb,
      after jsonb,
      note text,
      request_id text,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE UNIQUE INDEX audit_entry_id_uq ON routing.audit_entry (id)`);
    await q.query(`CREATE INDEX audit_entry_conversation_ix ON routing.audit_entry (conversation_id, seq)`);
    await q.query(`CREATE INDEX audit_entry_team_ix ON routing.audit_entry (team_id, seq)`);
    await q.query(`CREATE INDEX audit_entry_actor_ix ON routing.audit_entry (actor_id, seq)`);
    await q.query(`CREATE INDEX audit_entry_created_ix ON routing.audit_entry (created_at)`);
    await q.query(`CREATE FUNCTION routing.audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'routing.audit_entry is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON routing.audit_entry
      FOR EACH ROW EXECUTE FUNCTION routing.audit_entry_append_only()`);
    await q.query(`CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON routing.audit_entry
      FOR EACH STATEMENT EXECUTE FUNCTION routing.audit_entry_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.audit_entry`);
    await q.query(`DROP FUNCTION routing.audit_entry_append_only()`);
    await q.query(`DROP TABLE routing.note`);
    await q.query(`DROP TABLE routing.conversation_work`);
    await q.query(`DROP TABLE routing.number_team`);
  }
}
