import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The notification list: one row per recipient of a notice (idempotent by event id + user). */
export class UserNotices1795634964578 implements MigrationInterface {
  name = 'UserNotices1795634964578';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.user_notice (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      event_id uuid NOT NULL,
      kind text NOT NULL,
      conversation_id uuid,
      title text NOT NULL,
      body text,
      data jsonb,
      source text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      read_at timestamptz,
      CONSTRAINT user_notice_event_user_uq UNIQUE (event_id, user_id))`);
    // the list: unread first, newest first, per user
    await q.query(`CREATE INDEX user_notice_list_ix ON gateway.user_notice (user_id, (read_at IS NOT NULL), created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.user_notice`);
  }
}
