import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversation search (`GET /api/v1/conversations?q=`) is a substring match (ILIKE '%q%') on the contact's
 * profile name, wa_id and user_id and on message text: trigram GIN indexes let PostgreSQL answer it without
 * scanning every message.
 */
export class IngestSearch1764100400000 implements MigrationInterface {
  name = 'IngestSearch1764100400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`CREATE INDEX contact_profile_name_trgm_ix ON ingest.contact USING gin (profile_name gin_trgm_ops)`);
    await q.query(`CREATE INDEX contact_wa_id_trgm_ix ON ingest.contact USING gin (wa_id gin_trgm_ops)`);
    await q.query(`CREATE INDEX contact_user_id_trgm_ix ON ingest.contact USING gin (user_id gin_trgm_ops)`);
    await q.query(`CREATE INDEX message_text_trgm_ix ON ingest.message USING gin (text gin_trgm_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ingest.message_text_trgm_ix`);
    await q.query(`DROP INDEX ingest.contact_user_id_trgm_ix`);
    await q.query(`DROP INDEX ingest.contact_wa_id_trgm_ix`);
    await q.query(`DROP INDEX ingest.contact_profile_name_trgm_ix`);
  }
}
