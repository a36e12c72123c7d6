import type { MigrationInterface, QueryRunner } from 'typeorm';
import { commonTablesDown, commonTablesUp } from '@app/persistence';

export class IngestInit1764086400000 implements MigrationInterface {
  name = 'IngestInit1764086400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesUp('ingest')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesDown('ingest')) await q.query(sql);
  }
}
