import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 8, pre-aggregates of the SLA figures, kept by a trigger on sla.clock (so they follow the clocks exactly,
 * whatever order events arrive in): each work row's live SLA state (ok | warning | breached, for the dashboard) and
 * one row per decided clock (met or breached) with the team, owner and number at its decision (the SLA report).
 */
export class ReportsSlaOutcomes1795638712482 implements MigrationInterface {
  name = 'ReportsSlaOutcomes1795638712482';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sla.rpt_work ADD COLUMN sla_state text NOT NULL DEFAULT 'ok'`);
    await q.query(`CREATE TABLE sla.rpt_clock (
      clock_id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL,
      target text NOT NULL,
      started_at timestamptz NOT NULL,
      due_at timestamptz,
      target_ms bigint NOT NULL,
      team_id uuid,
      agent_id uuid,
      phone_number_id text,
      decided_at timestamptz NOT NULL,
      met_at timestamptz,
      breached_at timestamptz)`);
    await q.query(`CREATE INDEX rpt_clock_decided_ix ON sla.rpt_clock (decided_at, clock_id)`);
    await q.query(`CREATE FUNCTION sla.rpt_clock_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE sla.rpt_work SET sla_state = coalesce((
          SELECT CASE WHEN bool_or(k.state = 'breached') THEN 'breached' WHEN bool_or(k.state = 'warning') THEN 'warning' END
          FROM sla.clock k WHERE k.conversation_id = NEW.conversation_id AND k.closed_at IS NULL AND k.met_at IS NULL), 'ok')
        WHERE conversation_id = NEW.conversation_id;
        IF NEW.met_at IS NOT NULL OR NEW.breached_at IS NOT NULL THEN
          INSERT INTO sla.rpt_clock AS r (clock_id, conversation_id, target, started_at, due_at, target_ms, team_id, agent_id, phone_number_id, decided_at, met_at, breached_at)
          SELECT NEW.id, NEW.conversation_id, NEW.target, NEW.started_at, NEW.due_at, NEW.target_ms,
            coalesce((SELECT p.team_id FROM sla.policy p WHERE p.id = NEW.policy_id), w.team_id, v.team_id), w.owner_id, v.phone_number_id,
            least(NEW.breached_at, NEW.met_at), NEW.met_at, NEW.breached_at
          FROM sla.conversation v LEFT JOIN sla.rpt_work w ON w.conversation_id = v.conversation_id WHERE v.conversation_id = NEW.conversation_id
          ON CONFLICT (clock_id) DO UPDATE SET met_at = excluded.met_at, breached_at = coalesce(r.breached_at, excluded.breached_at), due_at = excluded.due_at;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER rpt_clock_changed AFTER INSERT OR UPDATE ON sla.clock FOR EACH ROW EXECUTE FUNCTION sla.rpt_clock_changed()`);
    // what existed before this migration
    await q.query(`UPDATE sla.rpt_work w SET sla_state = s.state FROM (
      SELECT conversation_id, CASE WHEN bool_or(state = 'breached') THEN 'breached' ELSE 'warning' END AS state FROM sla.clock
      WHERE closed_at IS NULL AND met_at IS NULL AND state IN ('warning', 'breached') GROUP BY conversation_id) s WHERE s.conversation_id = w.conversation_id`);
    await q.query(`INSERT INTO sla.rpt_clock (clock_id, conversation_id, target, started_at, due_at, target_ms, team_id, agent_id, phone_number_id, decided_at, met_at, breached_at)
      SELECT k.id, k.conversation_id, k.target, k.started_at, k.due_at, k.target_ms, coalesce(p.team_id, v.team_id),
        (SELECT s.owner_id FROM sla.rpt_state s WHERE s.conversation_id = k.conversation_id AND s.at <= least(k.breached_at, k.met_at) ORDER BY s.at DESC, s.version DESC LIMIT 1),
        v.phone_number_id, least(k.breached_at, k.met_at), k.met_at, k.breached_at
      FROM sla.clock k JOIN sla.conversation v ON v.conversation_id = k.conversation_id LEFT JOIN sla.policy p ON p.id = k.policy_id
      WHERE k.met_at IS NOT NULL OR k.breached_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER rpt_clock_changed ON sla.clock`);
    await q.query(`DROP FUNCTION sla.rpt_clock_changed()`);
    await q.query(`DROP TABLE sla.rpt_clock`);
    await q.query(`ALTER TABLE sla.rpt_work DROP COLUMN sla_state`);
  }
}
