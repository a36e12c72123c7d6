import type { MigrationInterface, QueryRunner } from 'typeorm';

/** CSAT in the reporting projection: one row per survey sent, from `inbox.csat.recorded.v1` (the newest version wins). */
export class ReportsCsat1795642000000 implements MigrationInterface {
  name = 'ReportsCsat1795642000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE sla.rpt_csat (
      survey_id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      phone_number_id text NOT NULL,
      team_id uuid,
      agent_id uuid,
      sent_at timestamptz NOT NULL,
      rating smallint CHECK (rating BETWEEN 1 AND 5),
      rated_at timestamptz,
      comment text,
      version integer NOT NULL)`);
    await q.query(`CREATE INDEX rpt_csat_sent_ix ON sla.rpt_csat (sent_at, survey_id)`);
    await q.query(`CREATE INDEX rpt_csat_team_ix ON sla.rpt_csat (team_id, sent_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sla.rpt_csat`);
  }
}
