import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Replies waiting for their quoted message are found by index, not by scanning every message on each insert. */
export class IngestMessageContextIndex1764100200000 implements MigrationInterface {
  name = 'IngestMessageContextIndex1764100200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX message_context_unlinked_ix ON ingest.message (phone_number_id, context_wa_message_id)
      WHERE context_message_id IS NULL AND context_wa_message_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ingest.message_context_unlinked_ix`);
  }
}
