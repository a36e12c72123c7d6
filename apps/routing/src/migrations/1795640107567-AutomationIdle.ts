import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Idle rules fire once per rule, conversation and quiet spell (the activity time it was quiet since). */
export class AutomationIdle1795640107567 implements MigrationInterface {
  name = 'AutomationIdle1795640107567';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.automation_idle (
      rule_id uuid NOT NULL,
      conversation_id uuid NOT NULL,
      activity_at timestamptz NOT NULL,
      PRIMARY KEY (rule_id, conversation_id, activity_at))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.automation_idle`);
  }
}
