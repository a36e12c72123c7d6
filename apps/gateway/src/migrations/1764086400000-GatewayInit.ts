import type { MigrationInterface, QueryRunner } from 'typeorm';
import { commonTablesDown, commonTablesUp } from '@app/persistence';

export class GatewayInit1764086400000 implements MigrationInterface {
  name = 'GatewayInit1764086400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesUp('gateway')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesDown('gateway')) await q.query(sql);
  }
}
