import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The durable inbox of raw signed webhooks: a row exists before Meta gets its 200. */
export class WebhookReceipts1764090000000 implements MigrationInterface {
  name = 'WebhookReceipts1764090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.webhook_receipt (
      id uuid PRIMARY KEY,
      received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      app_index smallint NOT NULL,
      body text NOT NULL,
      byte_length int NOT NULL)`);
    await q.query(`CREATE INDEX webhook_receipt_received_ix ON gateway.webhook_receipt (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.webhook_receipt`);
  }
}
