import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Rejection } from '../normalize/normalized.types';

/** Items of a webhook receipt that could not be applied, with where they were and why (the dead letters of ingest). */
@Injectable()
export class RejectedItemRepository {
  async record(em: EntityManager, receiptId: string, r: Rejection): Promise<void> {
    await em.query(
      `INSERT INTO ingest.rejected_item (receipt_id, path, reason, item) VALUES ($1, $2, $3, $4)
       ON CONFLICT ON CONSTRAINT rejected_item_uq DO NOTHING`,
      [receiptId, r.path, r.reason.slice(0, 1000), r.item === undefined || r.item === null ? null : JSON.stringify(r.item)],
    );
  }
}
