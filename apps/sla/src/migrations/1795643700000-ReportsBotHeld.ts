import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The counters' owner key for "held by a bot, nobody owns it" (like NIL for nobody; key columns are NOT NULL). */
const BOT = `'ffffffff-ffff-ffff-ffff-ffffffffffff'`;
const Z = `'00000000-0000-0000-0000-000000000000'`;

/**
 * Bot handover in the reports: `sla.rpt_work.bot_held` (a bot holds the conversation, from the work state's `bot`).
 * Such a conversation is in no queue (routing's queue and Unassigned skip it), so the live counters key it under the
 * owner BOT instead of NIL (nobody): "queue length" counts owner NIL only and the dashboard shows a separate "with a
 * bot" figure. The counters' trigger function is replaced by the same one with that owner key; existing held rows are
 * marked from sla.conversation.bot_since (the trigger moves their counts).
 */
export class ReportsBotHeld1795643700000 implements MigrationInterface {
  name = 'ReportsBotHeld1795643700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sla.rpt_work ADD COLUMN bot_held boolean NOT NULL DEFAULT false`);
    await q.query(counted(`coalesce(owner_id, CASE WHEN bot_held THEN ${BOT}::uuid END)`));
    await q.query(`UPDATE sla.rpt_work w SET bot_held = true, queued_since = NULL FROM sla.conversation c
      WHERE c.conversation_id = w.conversation_id AND c.bot_since IS NOT NULL AND w.owner_id IS NULL AND w.status <> 'resolved'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE sla.rpt_work SET bot_held = false WHERE bot_held`);
    await q.query(counted('owner_id'));
    await q.query(`ALTER TABLE sla.rpt_work DROP COLUMN bot_held`);
  }
}

/** sla.rpt_work_counted() (migration ReportsLiveCounters) with `owner` as the counters' owner key. */
function counted(owner: string): string {
  const deltas = (rows: string) => `sla.rpt_live_add(array_agg(t), array_agg(o), array_agg(s), array_agg(k), array_agg(h), array_agg(d)) FROM (
      SELECT coalesce(team_id, ${Z}) AS t, coalesce(owner_id, ${Z}) AS o, status AS s, sla_state AS k,
        coalesce(date_bin('1 hour', opened_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), '-infinity') AS h, sum(d)::int AS d
      FROM (${rows}) r WHERE status <> 'resolved' GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0) x`;
  const rowsOf = (table: string, d: number) => `SELECT team_id, ${owner} AS owner_id, status, sla_state, opened_at, ${d} AS d FROM ${table}`;
  return `CREATE OR REPLACE FUNCTION sla.rpt_work_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          PERFORM ${deltas(rowsOf('new_rows', 1))};
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM ${deltas(rowsOf('old_rows', -1))};
        ELSE
          PERFORM ${deltas(`${rowsOf('old_rows', -1)} UNION ALL ${rowsOf('new_rows', 1)}`)};
        END IF;
        RETURN NULL;
      END $$`;
}
