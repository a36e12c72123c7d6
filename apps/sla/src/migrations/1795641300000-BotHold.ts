import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bot handover (issue 14): while a bot holds a conversation its clocks are paused (`bot_since`); `bot_version` is the
 * last work-state version the bot consumer applied (older states arriving late are ignored).
 */
export class BotHold1795641300000 implements MigrationInterface {
  name = 'BotHold1795641300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sla.conversation ADD COLUMN bot_since timestamptz, ADD COLUMN bot_version int NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sla.conversation DROP COLUMN bot_version, DROP COLUMN bot_since`);
  }
}
