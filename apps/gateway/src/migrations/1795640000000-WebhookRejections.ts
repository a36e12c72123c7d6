import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateway's dead letters of webhooks refused whole although their signature was valid (4xx: not JSON, not a
 * WhatsApp shape, empty): the reason, the answer's status and the body (cut at WEBHOOK_REJECTED_BODY_MAX bytes;
 * `byte_length` is the size received). Invalid signatures and oversized bodies are never stored.
 */
export class WebhookRejections1795640000000 implements MigrationInterface {
  name = 'WebhookRejections1795640000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.webhook_rejected (
      id uuid PRIMARY KEY,
      received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      app_index smallint,
      http_status smallint NOT NULL,
      reason text NOT NULL CHECK (reason <> ''),
      body text NOT NULL,
      byte_length int NOT NULL,
      body_truncated boolean NOT NULL)`);
    await q.query(`CREATE INDEX webhook_rejected_received_ix ON gateway.webhook_rejected (received_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.webhook_rejected`);
  }
}
