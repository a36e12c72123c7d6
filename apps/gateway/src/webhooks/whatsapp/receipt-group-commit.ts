import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WebhookReceiptRepository, type NewReceipt } from './webhook-receipt.repository';

/**
 * Statements in flight at once; receipts arriving meanwhile wait and go together in the next one. Two keep the
 * database busy while the other's rows are sent and make the groups bigger under load (at 1,000 webhooks/s and
 * ~10 ms a statement, ~5 receipts per statement instead of ~2.5 with four): fewer statements, commits and
 * round trips per webhook, for the gateway's CPU and PostgreSQL's.
 */
export const RECEIPT_STATEMENTS_IN_FLIGHT = 2;
/** Receipts per statement at most, and body bytes per statement at most (a single larger body goes alone). */
const GROUP_MAX = 64;
const GROUP_MAX_BYTES = 4 * 1024 * 1024;

interface Pending {
  receipt: NewReceipt;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of webhook receipts: while RECEIPT_STATEMENTS_IN_FLIGHT insert statements run, concurrent webhooks queue and are
 * stored together by one multi-row statement (one round trip and one commit for the group instead of one per
 * webhook). Each caller's promise settles only after the statement holding its receipt committed, so a 200 still
 * means "durable in PostgreSQL". If a group's statement fails, its receipts are retried one per statement, so
 * one unstorable body fails alone (→ 503 for that webhook only).
 */
@Injectable()
export class ReceiptGroupCommit {
  private readonly queue: Pending[] = [];
  private running = 0;

  constructor(
    private readonly ds: DataSource,
    private readonly receipts: WebhookReceiptRepository,
  ) {}

  /** Receipts waiting for a statement (not yet sent to PostgreSQL). */
  get waiting(): number {
    return this.queue.length;
  }

  store(receipt: NewReceipt): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ receipt, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < RECEIPT_STATEMENTS_IN_FLIGHT && this.queue.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && n < GROUP_MAX && (n === 0 || bytes + this.queue[n].receipt.byteLength <= GROUP_MAX_BYTES))
        bytes += this.queue[n++].receipt.byteLength;
      const group = this.queue.splice(0, n);
      this.running++;
      void this.write(group).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async write(group: Pending[]): Promise<void> {
    try {
      await this.receipts.insertManyWithEvents(this.ds.manager, group.map((p) => p.receipt));
      for (const p of group) p.resolve();
      return;
    } catch (err) {
      if (group.length === 1) return group[0].reject(err);
    }
    for (const p of group)
      await this.receipts.insertManyWithEvents(this.ds.manager, [p.receipt]).then(p.resolve, p.reject);
  }
}
