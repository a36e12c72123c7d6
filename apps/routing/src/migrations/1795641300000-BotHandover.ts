import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bot handover (issue 14): the bot (an API key with the `bot` scope) holding a conversation. While held, the
 * conversation is in no queue (`queued_at` NULL) and routing assigns nobody; the audit trail and notes accept
 * the actor type `bot`.
 */
export class BotHandover1795641300000 implements MigrationInterface {
  name = 'BotHandover1795641300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing.conversation_work
      ADD COLUMN bot_id text, ADD COLUMN bot_name text, ADD COLUMN bot_since timestamptz,
      ADD CONSTRAINT conversation_work_bot_ck CHECK (bot_id IS NULL OR owner_id IS NULL)`);
    await q.query(`CREATE INDEX conversation_work_bot_ix ON routing.conversation_work (bot_id, activity_at DESC, conversation_id DESC)
      WHERE bot_id IS NOT NULL`);
    await q.query(`ALTER TABLE routing.audit_entry DROP CONSTRAINT audit_entry_actor_type_ck,
      ADD CONSTRAINT audit_entry_actor_type_ck CHECK (actor_type IN ('user', 'api_key', 'bot', 'system'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing.audit_entry DROP CONSTRAINT audit_entry_actor_type_ck,
      ADD CONSTRAINT audit_entry_actor_type_ck CHECK (actor_type IN ('user', 'api_key', 'system'))`);
    await q.query(`DROP INDEX routing.conversation_work_bot_ix`);
    await q.query(`ALTER TABLE routing.conversation_work DROP CONSTRAINT conversation_work_bot_ck,
      DROP COLUMN bot_since, DROP COLUMN bot_name, DROP COLUMN bot_id`);
  }
}
