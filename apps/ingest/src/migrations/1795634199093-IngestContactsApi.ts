import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The contacts API: a name people give (never overwritten by WhatsApp's profile name), attributes, labels,
 * blocking, merge tombstones (contact and conversation), GDPR erasure marks, and a version for edits.
 */
export class IngestContactsApi1795634199093 implements MigrationInterface {
  name = 'IngestContactsApi1795634199093';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ingest.contact
      ADD COLUMN name text,
      ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN labels text[] NOT NULL DEFAULT '{}',
      ADD COLUMN blocked_at timestamptz,
      ADD COLUMN merged_into_id uuid REFERENCES ingest.contact (id),
      ADD COLUMN merged_at timestamptz,
      ADD COLUMN erased_at timestamptz,
      ADD COLUMN version int NOT NULL DEFAULT 1`);
    await q.query(`CREATE INDEX contact_list_ix ON ingest.contact (created_at DESC, id DESC) WHERE merged_into_id IS NULL`);
    await q.query(`CREATE INDEX contact_merged_into_ix ON ingest.contact (merged_into_id) WHERE merged_into_id IS NOT NULL`);
    await q.query(`CREATE INDEX contact_name_trgm_ix ON ingest.contact USING gin (name gin_trgm_ops)`);
    await q.query(`CREATE INDEX contact_labels_ix ON ingest.contact USING gin (labels)`);
    // a contact's conversations across numbers (the unique index leads with phone_number_id)
    await q.query(`CREATE INDEX conversation_contact_ix ON ingest.conversation (contact_id)`);
    // a conversation whose messages a merge moved into the survivor's conversation on the same number
    await q.query(`ALTER TABLE ingest.conversation ADD COLUMN merged_into_id uuid REFERENCES ingest.conversation (id)`);
    await q.query(`ALTER TABLE ingest.media DROP CONSTRAINT media_state_ck`);
    await q.query(`ALTER TABLE ingest.media ADD CONSTRAINT media_state_ck CHECK (state IN ('pending', 'stored', 'failed', 'disabled', 'erased'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ingest.media DROP CONSTRAINT media_state_ck`);
    await q.query(`ALTER TABLE ingest.media ADD CONSTRAINT media_state_ck CHECK (state IN ('pending', 'stored', 'failed', 'disabled'))`);
    await q.query(`ALTER TABLE ingest.conversation DROP COLUMN merged_into_id`);
    await q.query(`DROP INDEX ingest.conversation_contact_ix`);
    await q.query(`DROP INDEX ingest.contact_labels_ix`);
    await q.query(`DROP INDEX ingest.contact_name_trgm_ix`);
    await q.query(`DROP INDEX ingest.contact_merged_into_ix`);
    await q.query(`DROP INDEX ingest.contact_list_ix`);
    await q.query(`ALTER TABLE ingest.contact DROP COLUMN name, DROP COLUMN attributes, DROP COLUMN labels, DROP COLUMN blocked_at,
      DROP COLUMN merged_into_id, DROP COLUMN merged_at, DROP COLUMN erased_at, DROP COLUMN version`);
  }
}
