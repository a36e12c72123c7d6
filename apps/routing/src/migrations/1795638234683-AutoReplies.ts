import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Greeting and away replies (issue 14): one reply per kind and team or business number, and one row per kind and
 * conversation recording the last send (the "at most once per period" guard, claimed by an atomic upsert).
 */
export class AutoReplies1795638234683 implements MigrationInterface {
  name = 'AutoReplies1795638234683';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.auto_reply (
      id uuid PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('greeting', 'away')),
      team_id uuid,
      phone_number_id text,
      text text NOT NULL,
      period_minutes integer NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      sent_count integer NOT NULL DEFAULT 0,
      error_count integer NOT NULL DEFAULT 0,
      last_error text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((team_id IS NULL) <> (phone_number_id IS NULL)))`);
    await q.query(`CREATE UNIQUE INDEX auto_reply_team_ux ON routing.auto_reply (kind, team_id) WHERE team_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX auto_reply_number_ux ON routing.auto_reply (kind, phone_number_id) WHERE phone_number_id IS NOT NULL`);
    await q.query(`CREATE TABLE routing.auto_reply_sent (
      kind text NOT NULL,
      conversation_id uuid NOT NULL,
      sent_at timestamptz NOT NULL,
      event_id uuid NOT NULL,
      done boolean NOT NULL DEFAULT false,
      PRIMARY KEY (kind, conversation_id))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.auto_reply_sent`);
    await q.query(`DROP TABLE routing.auto_reply`);
  }
}
