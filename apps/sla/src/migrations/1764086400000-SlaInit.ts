import type { MigrationInterface, QueryRunner } from 'typeorm';
import { commonTablesDown, commonTablesUp } from '@app/persistence';

export class SlaInit1764086400000 implements MigrationInterface {
  name = 'SlaInit1764086400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesUp('sla')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesDown('sla')) await q.query(sql);
  }
}
