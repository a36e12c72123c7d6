import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Canned responses (issue 14): a team's (team_id) or a person's (owner_id), found by shortcut from the composer. */
export class CannedResponses1795638903662 implements MigrationInterface {
  name = 'CannedResponses1795638903662';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.canned_response (
      id uuid PRIMARY KEY,
      shortcut text NOT NULL,
      title text NOT NULL,
      text text NOT NULL,
      team_id uuid,
      owner_id uuid,
      created_by uuid NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      CHECK ((team_id IS NULL) <> (owner_id IS NULL)))`);
    // a shortcut is unique within its team or within a person's own list
    await q.query(`CREATE UNIQUE INDEX canned_team_shortcut_ux ON gateway.canned_response (team_id, lower(shortcut)) WHERE team_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX canned_owner_shortcut_ux ON gateway.canned_response (owner_id, lower(shortcut)) WHERE owner_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.canned_response`);
  }
}
