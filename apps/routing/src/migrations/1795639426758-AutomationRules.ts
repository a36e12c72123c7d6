import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Automation rules (issue 14): ordered, enable/disable, counters of runs, failures and stopped loops. */
export class AutomationRules1795639426758 implements MigrationInterface {
  name = 'AutomationRules1795639426758';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.automation_rule (
      id uuid PRIMARY KEY,
      position integer NOT NULL,
      name text NOT NULL,
      event text NOT NULL,
      conditions jsonb NOT NULL,
      actions jsonb NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      run_count integer NOT NULL DEFAULT 0,
      error_count integer NOT NULL DEFAULT 0,
      last_error text,
      loops_stopped integer NOT NULL DEFAULT 0,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX automation_rule_event_ix ON routing.automation_rule (event, position) WHERE enabled`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.automation_rule`);
  }
}
