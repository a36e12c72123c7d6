import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Business numbers, contacts, conversations, messages, statuses, media, account events and rejected items. */
export class IngestInbox1764100000000 implements MigrationInterface {
  name = 'IngestInbox1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ingest.business_number (
      phone_number_id text PRIMARY KEY,
      waba_id text,
      display_phone_number text,
      registered boolean NOT NULL,
      auto_registered boolean NOT NULL DEFAULT false,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);

    // keyed on the BSUID user_id when known; wa_id (phone) is optional and mutable, never unique
    await q.query(`CREATE TABLE ingest.contact (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id text,
      parent_user_id text,
      wa_id text,
      profile_name text,
      username text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT contact_has_key_ck CHECK (user_id IS NOT NULL OR wa_id IS NOT NULL))`);
    await q.query(`CREATE UNIQUE INDEX contact_user_id_uq ON ingest.contact (user_id) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX contact_wa_id_ix ON ingest.contact (wa_id) WHERE wa_id IS NOT NULL`);

    await q.query(`CREATE TABLE ingest.conversation (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      phone_number_id text NOT NULL REFERENCES ingest.business_number (phone_number_id),
      contact_id uuid NOT NULL REFERENCES ingest.contact (id),
      status text NOT NULL DEFAULT 'open' CONSTRAINT conversation_status_ck CHECK (status IN ('open', 'resolved')),
      status_changed_at timestamptz,
      resolved_by text,
      last_message_at timestamptz NOT NULL,
      last_inbound_at timestamptz,
      last_message_text text,
      message_count int NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT conversation_number_contact_uq UNIQUE (phone_number_id, contact_id))`);
    await q.query(`CREATE INDEX conversation_activity_ix ON ingest.conversation (last_message_at DESC, id DESC)`);

    await q.query(`CREATE TABLE ingest.message (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq bigserial NOT NULL,
      conversation_id uuid NOT NULL REFERENCES ingest.conversation (id),
      phone_number_id text NOT NULL,
      wa_message_id text,
      send_id uuid,
      direction text NOT NULL CONSTRAINT message_direction_ck CHECK (direction IN ('inbound', 'outbound')),
      origin text NOT NULL CONSTRAINT message_origin_ck CHECK (origin IN ('customer', 'echo', 'inbox', 'system')),
      type text NOT NULL,
      text text NOT NULL,
      content jsonb NOT NULL,
      referral jsonb,
      context jsonb,
      context_wa_message_id text,
      context_message_id uuid,
      forwarded boolean NOT NULL DEFAULT false,
      frequently_forwarded boolean NOT NULL DEFAULT false,
      errors jsonb NOT NULL DEFAULT '[]'::jsonb,
      status text,
      status_at timestamptz,
      status_updated_at timestamptz,
      sent_at timestamptz NOT NULL,
      receipt_id uuid,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE UNIQUE INDEX message_wamid_uq ON ingest.message (phone_number_id, wa_message_id)
      WHERE wa_message_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX message_send_id_uq ON ingest.message (send_id) WHERE send_id IS NOT NULL`);
    await q.query(`CREATE INDEX message_thread_ix ON ingest.message (conversation_id, sent_at, seq)`);

    // every status seen once per (number, wamid, status, timestamp); message_id NULL = message not known yet
    await q.query(`CREATE TABLE ingest.message_status (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      phone_number_id text NOT NULL,
      wa_message_id text NOT NULL,
      status text NOT NULL,
      status_at timestamptz NOT NULL,
      errors jsonb NOT NULL DEFAULT '[]'::jsonb,
      raw jsonb NOT NULL,
      receipt_id uuid,
      message_id uuid REFERENCES ingest.message (id),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      CONSTRAINT message_status_uq UNIQUE (phone_number_id, wa_message_id, status, status_at))`);
    await q.query(`CREATE INDEX message_status_pending_ix ON ingest.message_status (phone_number_id, wa_message_id)
      WHERE message_id IS NULL`);

    // what notifications told us about a send, kept so sent/failed may arrive before queued
    await q.query(`CREATE TABLE ingest.outbound_send (
      send_id uuid PRIMARY KEY,
      phone_number_id text NOT NULL,
      wa_message_id text,
      sent_at timestamptz,
      failure jsonb,
      updated_at timestamptz NOT NULL DEFAULT now())`);

    await q.query(`CREATE TABLE ingest.media (
      message_id uuid PRIMARY KEY REFERENCES ingest.message (id),
      media_id text NOT NULL,
      expected_sha256 text,
      mime_type text,
      size bigint,
      sha256 text,
      state text NOT NULL CONSTRAINT media_state_ck CHECK (state IN ('pending', 'stored', 'failed', 'disabled')),
      storage_key text,
      attempts int NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX media_due_ix ON ingest.media (next_attempt_at) WHERE state = 'pending'`);

    await q.query(`CREATE TABLE ingest.account_event (
      id uuid PRIMARY KEY,
      dedupe_key text NOT NULL CONSTRAINT account_event_dedupe_uq UNIQUE,
      field text NOT NULL,
      waba_id text,
      phone_number_id text,
      value jsonb NOT NULL,
      receipt_id uuid,
      created_at timestamptz NOT NULL DEFAULT now())`);

    await q.query(`CREATE TABLE ingest.rejected_item (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      receipt_id uuid NOT NULL,
      path text NOT NULL,
      reason text NOT NULL,
      item jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT rejected_item_uq UNIQUE (receipt_id, path))`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['rejected_item', 'account_event', 'media', 'outbound_send', 'message_status', 'message', 'conversation', 'contact', 'business_number']) {
      await q.query(`DROP TABLE ingest.${t}`);
    }
  }
}
