import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 8, dashboard and agents-report speed. Live counters of the unresolved conversations, kept from `sla.rpt_work`
 * by statement-level triggers in the same transaction as every change of it (so they follow the projection exactly,
 * whatever path changed the row: the projector, the clock trigger, a bulk load):
 * - `rpt_live_count`: how many per (team, owner, status, live SLA state);
 * - `rpt_live_age`: how many per (team, status, hour of the latest opening), from which the dashboard's age buckets
 *   are summed (the hours that contain a bucket boundary are counted row by row, so the buckets stay exact).
 * A missing team or owner is stored as the nil uuid and an unknown opening as -infinity (key columns are NOT NULL).
 * Each change adds its net deltas in key order (one upsert per key, so concurrent writers lock keys in one order) and
 * drops keys that reach 0. Indexes let the dashboard find the oldest queued / waiting and the closing windows without
 * a scan, and let the agents report count replies and distinct conversations per agent from an index alone.
 */
export class ReportsLiveCounters1795643000000 implements MigrationInterface {
  name = 'ReportsLiveCounters1795643000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE sla.rpt_live_count (
      team_id uuid NOT NULL,
      owner_id uuid NOT NULL,
      status text NOT NULL,
      sla_state text NOT NULL,
      n int NOT NULL,
      PRIMARY KEY (team_id, owner_id, status, sla_state))`);
    await q.query(`CREATE TABLE sla.rpt_live_age (
      team_id uuid NOT NULL,
      status text NOT NULL,
      opened_hour timestamptz NOT NULL,
      n int NOT NULL,
      PRIMARY KEY (team_id, status, opened_hour))`);
    // net deltas per (team, owner, status, SLA state, opening hour) as arrays, one element per key; null = none
    const Z = `'00000000-0000-0000-0000-000000000000'`;
    await q.query(`CREATE FUNCTION sla.rpt_live_add(t uuid[], o uuid[], s text[], k text[], h timestamptz[], d int[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF t IS NULL THEN RETURN; END IF;
        INSERT INTO sla.rpt_live_count AS c (team_id, owner_id, status, sla_state, n)
          SELECT x.t, x.o, x.s, x.k, sum(x.d) FROM unnest(t, o, s, k, d) AS x(t, o, s, k, d) GROUP BY 1, 2, 3, 4 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3, 4
          ON CONFLICT (team_id, owner_id, status, sla_state) DO UPDATE SET n = c.n + excluded.n;
        DELETE FROM sla.rpt_live_count c WHERE c.n = 0 AND (c.team_id, c.owner_id, c.status, c.sla_state) IN (SELECT x.t, x.o, x.s, x.k FROM unnest(t, o, s, k) AS x(t, o, s, k));
        INSERT INTO sla.rpt_live_age AS c (team_id, status, opened_hour, n)
          SELECT x.t, x.s, x.h, sum(x.d) FROM unnest(t, s, h, d) AS x(t, s, h, d) GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3
          ON CONFLICT (team_id, status, opened_hour) DO UPDATE SET n = c.n + excluded.n;
        DELETE FROM sla.rpt_live_age c WHERE c.n = 0 AND (c.team_id, c.status, c.opened_hour) IN (SELECT x.t, x.s, x.h FROM unnest(t, s, h) AS x(t, s, h));
      END $$`);
    // rows (old_rows −1, new_rows +1) → the net deltas per key, keys without a change left out
    const deltas = (rows: string) => `SELECT sla.rpt_live_add(array_agg(t), array_agg(o), array_agg(s), array_agg(k), array_agg(h), array_agg(d)) FROM (
      SELECT coalesce(team_id, ${Z}) AS t, coalesce(owner_id, ${Z}) AS o, status AS s, sla_state AS k,
        coalesce(date_bin('1 hour', opened_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), '-infinity') AS h, sum(d)::int AS d
      FROM (${rows}) r WHERE status <> 'resolved' GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0) x`;
    const rowsOf = (table: string, d: number) => `SELECT team_id, owner_id, status, sla_state, opened_at, ${d} AS d FROM ${table}`;
    await q.query(`CREATE FUNCTION sla.rpt_work_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          PERFORM ${deltas(rowsOf('new_rows', 1)).replace(/^SELECT /, '')};
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM ${deltas(rowsOf('old_rows', -1)).replace(/^SELECT /, '')};
        ELSE
          PERFORM ${deltas(`${rowsOf('old_rows', -1)} UNION ALL ${rowsOf('new_rows', 1)}`).replace(/^SELECT /, '')};
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER rpt_work_counted_ins AFTER INSERT ON sla.rpt_work REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sla.rpt_work_counted()`);
    await q.query(
      `CREATE TRIGGER rpt_work_counted_upd AFTER UPDATE ON sla.rpt_work REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sla.rpt_work_counted()`,
    );
    await q.query(`CREATE TRIGGER rpt_work_counted_del AFTER DELETE ON sla.rpt_work REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sla.rpt_work_counted()`);
    // what existed before this migration
    await q.query(deltas(rowsOf('sla.rpt_work', 1)));
    await q.query(`CREATE INDEX rpt_work_queued_ix ON sla.rpt_work (team_id, queued_since) WHERE owner_id IS NULL AND status = 'open'`);
    await q.query(`CREATE INDEX rpt_work_waiting_ix ON sla.rpt_work (owner_id, awaiting_since) INCLUDE (team_id) WHERE status = 'open'`);
    await q.query(`CREATE INDEX rpt_work_window_ix ON sla.rpt_work (last_inbound_at) INCLUDE (team_id) WHERE status <> 'resolved'`);
    await q.query(`CREATE INDEX rpt_work_opened_ix ON sla.rpt_work (opened_at) INCLUDE (team_id, status) WHERE status <> 'resolved'`);
    await q.query(`CREATE INDEX rpt_message_reply_ix ON sla.rpt_message (sender_id, conversation_id) INCLUDE (at) WHERE direction = 'out' AND sender_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const ix of ['rpt_message_reply_ix', 'rpt_work_opened_ix', 'rpt_work_window_ix', 'rpt_work_waiting_ix', 'rpt_work_queued_ix']) await q.query(`DROP INDEX sla.${ix}`);
    for (const t of ['rpt_work_counted_ins', 'rpt_work_counted_upd', 'rpt_work_counted_del']) await q.query(`DROP TRIGGER ${t} ON sla.rpt_work`);
    await q.query(`DROP FUNCTION sla.rpt_work_counted()`);
    await q.query(`DROP FUNCTION sla.rpt_live_add(uuid[], uuid[], text[], text[], timestamptz[], int[])`);
    await q.query(`DROP TABLE sla.rpt_live_age`);
    await q.query(`DROP TABLE sla.rpt_live_count`);
  }
}
