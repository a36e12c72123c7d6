import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The durable send queue (one row per idempotency key), its attempts, the shared rate-limit rows
 * (per number and per number→recipient pair), the 24 h window projection and the template store.
 */
export class OutboundQueue1764100000000 implements MigrationInterface {
  name = 'OutboundQueue1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE notifications.outbound_send (
      id uuid PRIMARY KEY,
      idempotency_key text NOT NULL,
      request_hash text NOT NULL,
      phone_number_id text NOT NULL,
      recipient text NOT NULL,
      conversation_id uuid,
      sender_id text,
      sender_name text,
      kind text NOT NULL,
      graph_body jsonb NOT NULL,
      status text NOT NULL CONSTRAINT outbound_send_status_ck CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unknown')),
      attempts int NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      lease_until timestamptz,
      current_attempt_id uuid,
      call_started_at timestamptz,
      wa_message_id text,
      error_code int,
      error_title text,
      error_explanation text,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      sent_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      CONSTRAINT outbound_send_idempotency_uq UNIQUE (idempotency_key))`);
    await q.query(`CREATE INDEX outbound_send_due_ix ON notifications.outbound_send (next_attempt_at, created_at) WHERE status = 'queued'`);
    await q.query(`CREATE INDEX outbound_send_lease_ix ON notifications.outbound_send (lease_until) WHERE status = 'sending'`);
    await q.query(`CREATE INDEX outbound_send_pair_ix ON notifications.outbound_send (phone_number_id, recipient) WHERE status = 'queued'`);
    await q.query(`CREATE UNIQUE INDEX outbound_send_wamid_uq ON notifications.outbound_send (wa_message_id) WHERE wa_message_id IS NOT NULL`);
    await q.query(`CREATE TABLE notifications.outbound_attempt (
      id uuid PRIMARY KEY,
      send_id uuid NOT NULL CONSTRAINT outbound_attempt_send_fk REFERENCES notifications.outbound_send (id) ON DELETE CASCADE,
      attempt int NOT NULL,
      worker text NOT NULL,
      slot_at timestamptz NOT NULL,
      started_at timestamptz,
      finished_at timestamptz,
      outcome text,
      http_status int,
      error_code int)`);
    await q.query(`CREATE INDEX outbound_attempt_send_ix ON notifications.outbound_attempt (send_id)`);
    await q.query(`CREATE TABLE notifications.rate_slot (
      phone_number_id text PRIMARY KEY,
      next_slot_at timestamptz NOT NULL)`);
    await q.query(`CREATE TABLE notifications.pair_gate (
      phone_number_id text NOT NULL,
      recipient text NOT NULL,
      next_at timestamptz NOT NULL,
      CONSTRAINT pair_gate_pk PRIMARY KEY (phone_number_id, recipient))`);
    await q.query(`CREATE TABLE notifications.conversation_ref (
      conversation_id uuid PRIMARY KEY,
      phone_number_id text NOT NULL,
      contact_id uuid NOT NULL)`);
    await q.query(`CREATE TABLE notifications.contact_ref (
      contact_id uuid PRIMARY KEY,
      wa_id text,
      user_id text)`);
    await q.query(`CREATE INDEX contact_ref_wa_id_ix ON notifications.contact_ref (wa_id)`);
    await q.query(`CREATE INDEX contact_ref_user_id_ix ON notifications.contact_ref (user_id)`);
    await q.query(`CREATE TABLE notifications.service_window (
      phone_number_id text NOT NULL,
      contact_id uuid NOT NULL,
      last_inbound_at timestamptz NOT NULL,
      CONSTRAINT service_window_pk PRIMARY KEY (phone_number_id, contact_id))`);
    await q.query(`CREATE TABLE notifications.whatsapp_template (
      waba_id text NOT NULL,
      name text NOT NULL,
      language text NOT NULL,
      template_id text,
      status text NOT NULL,
      category text,
      components jsonb,
      body_param_count int,
      synced_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      CONSTRAINT whatsapp_template_pk PRIMARY KEY (waba_id, name, language))`);
    await q.query(`CREATE INDEX whatsapp_template_name_ix ON notifications.whatsapp_template (name, language)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['whatsapp_template', 'service_window', 'contact_ref', 'conversation_ref', 'pair_gate', 'rate_slot', 'outbound_attempt', 'outbound_send'])
      await q.query(`DROP TABLE notifications.${t}`);
  }
}
