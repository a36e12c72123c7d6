import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bot handover: the bots whose API key was revoked (from the gateway's `api-key.revoked` event). Routing refuses to
 * let such a bot hold a conversation or be a number's bot, checked in the same transaction that would hold it.
 */
export class RevokedBot1795643600000 implements MigrationInterface {
  name = 'RevokedBot1795643600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.revoked_bot (
      bot_id text PRIMARY KEY,
      revoked_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.revoked_bot`);
  }
}
