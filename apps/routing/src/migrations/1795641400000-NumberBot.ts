import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Bot handover: the bot (API key with the `bot` scope) that new conversations on a business number go to. */
export class NumberBot1795641400000 implements MigrationInterface {
  name = 'NumberBot1795641400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.number_bot (
      phone_number_id text PRIMARY KEY,
      bot_id text NOT NULL,
      bot_name text,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE INDEX number_bot_bot_ix ON routing.number_bot (bot_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.number_bot`);
  }
}
