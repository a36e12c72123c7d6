import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The label catalogue: the labels conversations may carry (unique name, any case), with a display colour. */
export class Labels1764108000000 implements MigrationInterface {
  name = 'Labels1764108000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway.label (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CONSTRAINT label_name_ck CHECK (length(name) BETWEEN 1 AND 40),
      color text NOT NULL CONSTRAINT label_color_ck CHECK (color ~ '^#[0-9a-f]{6}$'),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await q.query(`CREATE UNIQUE INDEX label_name_uq ON gateway.label (lower(name))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.label`);
  }
}
