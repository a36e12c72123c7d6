import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Ordered scans per team and per owner without a status filter (the list's "all statuses" views). */
export class WorkListIndexes1764104400000 implements MigrationInterface {
  name = 'WorkListIndexes1764104400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX conversation_work_team_activity_ix ON routing.conversation_work (team_id, activity_at DESC, conversation_id DESC)`,
    );
    await q.query(
      `CREATE INDEX conversation_work_owner_activity_ix ON routing.conversation_work (owner_id, activity_at DESC, conversation_id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX routing.conversation_work_owner_activity_ix`);
    await q.query(`DROP INDEX routing.conversation_work_team_activity_ix`);
  }
}
