import type { MigrationInterface, QueryRunner } from 'typeorm';
import { commonTablesDown, commonTablesUp } from '@app/persistence';

export class RoutingInit1764086400000 implements MigrationInterface {
  name = 'RoutingInit1764086400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesUp('routing')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesDown('routing')) await q.query(sql);
  }
}
