import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Macros (issue 14): named step lists, shared (owner_id NULL) or personal. */
export class Macros1795638677321 implements MigrationInterface {
  name = 'Macros1795638677321';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE routing.macro (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      owner_id text,
      created_by text NOT NULL,
      steps jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX macro_owner_ix ON routing.macro (owner_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.macro`);
  }
}
