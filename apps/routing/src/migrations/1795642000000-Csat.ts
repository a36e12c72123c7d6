import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CSAT surveys (issue 14, item 5): a setting per team or business number, and one survey per conversation episode.
 * The unique (conversation_id, episode) is what makes "never sent twice" hold under redelivered resolve events and
 * several replicas: only the transaction that inserts the row may send (a redelivery of that row's unfinished send
 * repeats the same idempotency key, which notifications answers without sending again).
 */
export class Csat1795642000000 implements MigrationInterface {
  name = 'Csat1795642000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.csat_setting (
      id uuid PRIMARY KEY,
      team_id uuid,
      phone_number_id text,
      enabled boolean NOT NULL DEFAULT true,
      question text NOT NULL,
      button_text text NOT NULL,
      comment_prompt text,
      comment_minutes integer NOT NULL DEFAULT 10,
      sent_count integer NOT NULL DEFAULT 0,
      error_count integer NOT NULL DEFAULT 0,
      last_error text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT csat_setting_scope_ck CHECK ((team_id IS NULL) <> (phone_number_id IS NULL)))`);
    await q.query(`CREATE UNIQUE INDEX csat_setting_team_ux ON routing.csat_setting (team_id) WHERE team_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX csat_setting_number_ux ON routing.csat_setting (phone_number_id) WHERE phone_number_id IS NOT NULL`);
    await q.query(`CREATE TABLE routing.csat_survey (
      id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      episode integer NOT NULL,
      setting_id uuid NOT NULL,
      phone_number_id text NOT NULL,
      team_id uuid,
      agent_id uuid,
      status text NOT NULL DEFAULT 'sending' CONSTRAINT csat_survey_status_ck CHECK (status IN ('sending', 'sent', 'not_sent')),
      reason text,
      comment_prompt text,
      comment_minutes integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      rating smallint CONSTRAINT csat_survey_rating_ck CHECK (rating BETWEEN 1 AND 5),
      rated_at timestamptz,
      rating_message_id uuid,
      comment text,
      version integer NOT NULL DEFAULT 0,
      CONSTRAINT csat_survey_episode_ux UNIQUE (conversation_id, episode))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.csat_survey`);
    await q.query(`DROP TABLE routing.csat_setting`);
  }
}
