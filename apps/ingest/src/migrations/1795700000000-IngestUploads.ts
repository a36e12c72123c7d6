import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents' attachments (gateway POST /api/v1/conversations/:id/attachments), stored in the media store before
 * notifications uploads them to the Graph API; the outbound message's `media` row points at the same file.
 */
export class IngestUploads1795700000000 implements MigrationInterface {
  name = 'IngestUploads1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ingest.upload (
      id uuid PRIMARY KEY,
      conversation_id uuid NOT NULL REFERENCES ingest.conversation (id),
      mime_type text NOT NULL,
      filename text,
      size bigint NOT NULL CONSTRAINT upload_size_ck CHECK (size > 0),
      sha256 text NOT NULL,
      received bigint NOT NULL DEFAULT 0,
      state text NOT NULL DEFAULT 'partial' CONSTRAINT upload_state_ck CHECK (state IN ('partial', 'stored')),
      storage_key text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX upload_conversation_ix ON ingest.upload (conversation_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ingest.upload`);
  }
}
