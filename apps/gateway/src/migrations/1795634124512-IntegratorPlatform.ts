import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13: the registry of Meta apps, WhatsApp Business Accounts and phone numbers (secrets sealed with
 * AES-256-GCM, `*_sealed` + `*_last4`), and integrators' event-webhook subscriptions with their deliveries.
 */
export class IntegratorPlatform1795634124512 implements MigrationInterface {
  name = 'IntegratorPlatform1795634124512';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.meta_app (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CONSTRAINT meta_app_name_ck CHECK (length(name) BETWEEN 1 AND 100),
      meta_app_id text CONSTRAINT meta_app_meta_id_ck CHECK (meta_app_id ~ '^[0-9]{1,32}$'),
      app_secret_sealed text, app_secret_last4 text,
      verify_token_sealed text, verify_token_last4 text,
      access_token_sealed text, access_token_last4 text,
      status text NOT NULL DEFAULT 'active' CONSTRAINT meta_app_status_ck CHECK (status IN ('active', 'disabled')),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE TABLE gateway.waba (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      waba_id text NOT NULL CONSTRAINT waba_waba_id_ck CHECK (waba_id ~ '^[0-9]{1,32}$'),
      name text NOT NULL CONSTRAINT waba_name_ck CHECK (length(name) BETWEEN 1 AND 100),
      app_id uuid NOT NULL CONSTRAINT waba_app_fk REFERENCES gateway.meta_app (id),
      status text NOT NULL DEFAULT 'active' CONSTRAINT waba_status_ck CHECK (status IN ('active', 'disabled')),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE UNIQUE INDEX waba_waba_id_uq ON gateway.waba (waba_id)`);
    await q.query(`CREATE TABLE gateway.phone_number (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      phone_number_id text NOT NULL CONSTRAINT phone_number_id_ck CHECK (phone_number_id ~ '^[0-9]{1,32}$'),
      waba_id uuid NOT NULL CONSTRAINT phone_number_waba_fk REFERENCES gateway.waba (id),
      display_number text NOT NULL,
      default_team_id uuid,
      graph_api_version text NOT NULL CONSTRAINT phone_number_version_ck CHECK (graph_api_version ~ '^v[0-9]{1,3}\\.[0-9]$'),
      status text NOT NULL DEFAULT 'active' CONSTRAINT phone_number_status_ck CHECK (status IN ('active', 'disabled')),
      last_test jsonb,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE UNIQUE INDEX phone_number_pnid_uq ON gateway.phone_number (phone_number_id)`);

    await q.query(`CREATE TABLE gateway.event_subscription (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      url text NOT NULL,
      event_types text[] NOT NULL,
      description text,
      secret_sealed text NOT NULL, secret_last4 text NOT NULL,
      status text NOT NULL DEFAULT 'active' CONSTRAINT event_subscription_status_ck CHECK (status IN ('active', 'paused')),
      failure_streak int NOT NULL DEFAULT 0,
      paused_at timestamptz, paused_reason text,
      created_by_kind text NOT NULL, created_by_id uuid,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE TABLE gateway.event_delivery (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subscription_id uuid NOT NULL CONSTRAINT event_delivery_subscription_fk REFERENCES gateway.event_subscription (id) ON DELETE CASCADE,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      conversation_id uuid,
      seq bigint NOT NULL,
      body text NOT NULL,
      occurred_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending' CONSTRAINT event_delivery_status_ck CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
      attempts int NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      lease_until timestamptz,
      last_status_code int, last_error text,
      created_at timestamptz NOT NULL,
      delivered_at timestamptz)`);
    await q.query(`CREATE UNIQUE INDEX event_delivery_event_uq ON gateway.event_delivery (subscription_id, event_id)`);
    await q.query(`CREATE INDEX event_delivery_due_ix ON gateway.event_delivery (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX event_delivery_order_ix ON gateway.event_delivery (subscription_id, conversation_id, seq) WHERE status IN ('pending', 'sending')`);
    await q.query(`CREATE INDEX event_delivery_log_ix ON gateway.event_delivery (subscription_id, seq DESC)`);
    await q.query(`CREATE TABLE gateway.event_delivery_attempt (
      id bigserial PRIMARY KEY,
      delivery_id uuid NOT NULL CONSTRAINT event_delivery_attempt_fk REFERENCES gateway.event_delivery (id) ON DELETE CASCADE,
      attempted_at timestamptz NOT NULL,
      status_code int,
      error text,
      duration_ms int NOT NULL)`);
    await q.query(`CREATE INDEX event_delivery_attempt_ix ON gateway.event_delivery_attempt (delivery_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.event_delivery_attempt`);
    await q.query(`DROP TABLE gateway.event_delivery`);
    await q.query(`DROP TABLE gateway.event_subscription`);
    await q.query(`DROP TABLE gateway.phone_number`);
    await q.query(`DROP TABLE gateway.waba`);
    await q.query(`DROP TABLE gateway.meta_app`);
  }
}
