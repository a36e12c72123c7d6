import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Watchers (issue 14): people following a conversation get its notices. Owners and mentioned people are added by
 * default; `active = false` records an explicit unfollow, which a later default addition does not undo.
 */
export class ConversationWatchers1795639217088 implements MigrationInterface {
  name = 'ConversationWatchers1795639217088';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.conversation_watcher (
      conversation_id uuid NOT NULL,
      user_id uuid NOT NULL,
      reason text NOT NULL CHECK (reason IN ('owner', 'mention', 'follow')),
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (conversation_id, user_id))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.conversation_watcher`);
  }
}
