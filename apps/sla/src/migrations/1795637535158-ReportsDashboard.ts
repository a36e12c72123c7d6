import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 8, dashboard speed: the projection keeps since when the customer waits and their last message (the 24 h
 * window) on its own work row, and an index finds the running clocks in warning or breached without a scan.
 */
export class ReportsDashboard1795637535158 implements MigrationInterface {
  name = 'ReportsDashboard1795637535158';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sla.rpt_work ADD COLUMN awaiting_since timestamptz, ADD COLUMN last_inbound_at timestamptz`);
    await q.query(`CREATE INDEX clock_alert_ix ON sla.clock (conversation_id) WHERE closed_at IS NULL AND met_at IS NULL AND state IN ('warning', 'breached')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX sla.clock_alert_ix`);
    await q.query(`ALTER TABLE sla.rpt_work DROP COLUMN last_inbound_at, DROP COLUMN awaiting_since`);
  }
}
