import type { MigrationInterface, QueryRunner } from 'typeorm';
import { commonTablesDown, commonTablesUp } from '@app/persistence';

export class NotificationsInit1764086400000 implements MigrationInterface {
  name = 'NotificationsInit1764086400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesUp('notifications')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of commonTablesDown('notifications')) await q.query(sql);
  }
}
