import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { WebhookReceivedV1, type PayloadOf } from '@app/contracts';
import { Bus, type EventMeta } from '@app/messaging';
import { claimEvent, claimEvents, OutboxWriter } from '@app/persistence';
import { AccountEventService } from '../account/account-event.service';
import { INGEST_CONFIG, type IngestConfig } from '../config';
import { ingestMetrics, itemKindOfPath } from '../ingest.metrics';
import { MediaService } from '../media/media.service';
import { DuplicateMessage, InboundMessageService } from '../messages/inbound-message.service';
import type { NormalizedItem, Rejection } from '../normalize/normalized.types';
import { normalizeWebhook } from '../normalize/webhook.normalizer';
import { BusinessNumberService } from '../numbers/business-number.service';
import { StatusService } from '../statuses/status.service';
import { RejectedItemRepository } from './rejected-item.repository';

/**
 * Deliveries of one receipt before it goes to the dead-letter stream (with its whole raw body, so it can be
 * replayed). With the backoff below that is about 15 minutes of retrying: a database failover or restart must
 * not turn customer messages into rejections.
 */
export const WEBHOOK_MAX_DELIVER = 20;
const WEBHOOK_BACKOFF_MS = 1_000;
const WEBHOOK_MAX_BACKOFF_MS = 60_000;

/**
 * Durable consumer of the gateway's raw webhook receipts. Every item of a receipt is applied in its own
 * transaction, so one bad item never blocks the rest: an item that fails validation is recorded in
 * ingest.rejected_item (receipt id, JSON path, reason), logged and counted; an item that fails for another
 * reason (database) makes the receipt redeliver after the others were applied — re-applying is idempotent —
 * and after WEBHOOK_MAX_DELIVER deliveries the bus dead-letters it whole, without blocking later receipts.
 *
 * Under load, receipts that queue up behind the INGEST_WEBHOOK_CONCURRENCY running transactions are applied
 * together, up to INGEST_WEBHOOK_BATCH_SIZE per transaction: one BEGIN/COMMIT, one processed-marker statement and
 * one multi-row outbox INSERT for all of them instead of per item. That is all-or-nothing: if any item of a batch
 * fails (a duplicate, a database error, a deadlock), the batch is rolled back and its receipts are applied again
 * one by one with the per-item transactions above, so an odd item is still isolated. A receipt is acknowledged
 * only after the transaction that applied it committed. Redeliveries never join a batch.
 */
@Injectable()
export class WebhookHandler implements OnApplicationBootstrap {
  private readonly log = new Logger('Webhooks');
  /** First deliveries waiting for a free transaction slot (batched when more than one waits). */
  private readonly queue: QueuedReceipt[] = [];
  private running = 0;

  constructor(
    @Inject(INGEST_CONFIG) private readonly cfg: IngestConfig,
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly numbers: BusinessNumberService,
    private readonly messages: InboundMessageService,
    private readonly statuses: StatusService,
    private readonly accountEvents: AccountEventService,
    private readonly rejected: RejectedItemRepository,
    private readonly media: MediaService,
    private readonly outbox: OutboxWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(
      WebhookReceivedV1,
      {
        durable: 'ingest-webhooks',
        // enough receipts in flight to fill every transaction's batch (they wait in `queue`, not on the database)
        concurrency: this.cfg.INGEST_WEBHOOK_CONCURRENCY * this.cfg.INGEST_WEBHOOK_BATCH_SIZE,
        maxDeliver: WEBHOOK_MAX_DELIVER,
        backoffMs: WEBHOOK_BACKOFF_MS,
        maxBackoffMs: WEBHOOK_MAX_BACKOFF_MS,
      },
      (evt, meta) => this.handle(evt, meta),
    );
  }

  async handle(evt: PayloadOf<typeof WebhookReceivedV1>, meta?: Pick<EventMeta, 'deliveryCount'>): Promise<void> {
    const receivedAt = Number.isNaN(Date.parse(evt.occurredAt)) ? new Date() : new Date(evt.occurredAt);
    const { items, rejected } = normalizeWebhook(evt.body, receivedAt);
    const first = (meta?.deliveryCount ?? 1) === 1;
    // invalid items are recorded once, on the first delivery; a redelivery only retries what failed for other reasons
    if (first) for (const r of rejected) await this.reject(evt.eventId, r);
    if (!first || this.cfg.INGEST_WEBHOOK_BATCH_SIZE <= 1) return this.applyEach(evt.eventId, items, receivedAt);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ receiptId: evt.eventId, items, receivedAt, resolve, reject });
      this.pump();
    });
  }

  /** Starts a transaction for the queued receipts while fewer than INGEST_WEBHOOK_CONCURRENCY run. */
  private pump(): void {
    while (this.running < this.cfg.INGEST_WEBHOOK_CONCURRENCY && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.cfg.INGEST_WEBHOOK_BATCH_SIZE);
      this.running++;
      void this.applyQueued(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async applyQueued(batch: QueuedReceipt[]): Promise<void> {
    if (batch.length > 1) {
      try {
        await this.applyBatch(batch);
        ingestMetrics.batches.inc({ outcome: 'committed' });
        for (const r of batch) r.resolve();
        return;
      } catch (err) {
        // rolled back whole: every receipt is applied again on its own, item by item, below
        if (!(err instanceof DuplicateMessage))
          this.log.debug({ msg: 'webhook batch rolled back, applying its receipts one by one', receipts: batch.length, reason: (err as Error).message });
        ingestMetrics.batches.inc({ outcome: 'redone_one_by_one' });
      }
    }
    for (const r of batch) await this.applyEach(r.receiptId, r.items, r.receivedAt).then(r.resolve, r.reject);
  }

  /** Every item of every receipt in one transaction (all or nothing), then one processed marker per receipt. */
  private async applyBatch(batch: QueuedReceipt[]): Promise<void> {
    // one lock order for all transactions (number, then contact or wamid), so two batches touching the same
    // customers queue rather than deadlock; the sort is stable, so one customer's messages keep their order
    const work = batch
      .flatMap((r) => r.items.map((item) => ({ r, item, key: lockOrderOf(item) })))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const outcomes = await this.ds.transaction(async (em) => {
      // the batch's events go into the outbox by one multi-row INSERT at the end (same transaction)
      const done = await this.outbox.collect(em, async () => {
        const o: string[] = [];
        for (const w of work) o.push(await this.applyItem(em, w.item, w.r.receiptId, w.r.receivedAt));
        return o;
      });
      await claimEvents(em, 'ingest', 'ingest-webhooks', batch.map((r) => r.receiptId));
      return done;
    });
    let media = false;
    work.forEach((w, i) => {
      if (w.item.number) this.numbers.remember(w.item.number);
      ingestMetrics.items.inc({ kind: w.item.kind, outcome: outcomes[i] });
      if (w.item.kind === 'message' && w.item.media && outcomes[i] === 'applied') media = true;
    });
    if (media) this.media.kick();
  }

  /** Each item in its own transaction; the receipt's processed marker goes with the last one when all went well. */
  private async applyEach(receiptId: string, items: NormalizedItem[], receivedAt: Date): Promise<void> {
    const evt = { eventId: receiptId };
    let failure: Error | undefined;
    let media = false;
    let claimed = false;
    // marks the receipt as fully handled (ops can tell which receipts ingest finished); written in the last
    // item's transaction when all went well, which saves a commit for the common one-item receipt
    const claim = async (em: EntityManager) => {
      await claimEvent(em, 'ingest', 'ingest-webhooks', evt.eventId);
      claimed = true;
    };
    for (const [i, item] of items.entries()) {
      const last = i === items.length - 1;
      try {
        const outcome = await this.ds.transaction(async (em) => {
          claimed = false;
          const o = await this.applyItem(em, item, evt.eventId, receivedAt);
          if (last && !failure) await claim(em);
          return o;
        });
        if (item.number) this.numbers.remember(item.number);
        ingestMetrics.items.inc({ kind: item.kind, outcome });
        if (item.kind === 'message' && item.media && outcome === 'applied') media = true;
      } catch (err) {
        claimed = false;
        if (err instanceof DuplicateMessage) {
          ingestMetrics.items.inc({ kind: item.kind, outcome: 'duplicate' });
          continue;
        }
        // not the item's fault (database, broker): the receipt is redelivered with backoff and, if it keeps failing,
        // dead-lettered whole (raw body included) rather than recorded as a rejection — nothing is dropped
        failure ??= err as Error;
        this.log.warn({ msg: 'webhook item failed, receipt will be redelivered', receiptId: evt.eventId, path: item.path, reason: (err as Error).message });
      }
    }
    if (media) this.media.kick();
    if (failure) throw failure;
    if (!claimed) await this.ds.transaction(claim);
  }

  private async applyItem(em: EntityManager, item: NormalizedItem, receiptId: string, receivedAt: Date): Promise<string> {
    if (item.number) await this.numbers.ensure(em, item.number);
    switch (item.kind) {
      case 'message':
        return (await this.messages.apply(em, item, receiptId, receivedAt)) ? 'applied' : 'duplicate';
      case 'status':
        return this.statuses.applyWebhookStatus(em, item, receiptId);
      case 'account':
        return (await this.accountEvents.apply(em, item, receiptId, receivedAt)) ? 'applied' : 'duplicate';
    }
  }

  private async reject(receiptId: string, r: Rejection): Promise<void> {
    await this.rejected.record(this.ds.manager, receiptId, r);
    ingestMetrics.rejected.inc({ item: itemKindOfPath(r.path) });
    // the reason and path only: never the item itself (it may hold message text or phone numbers)
    this.log.warn({ msg: 'webhook item rejected', receiptId, path: r.path, reason: r.reason });
  }
}

interface QueuedReceipt {
  receiptId: string;
  items: NormalizedItem[];
  receivedAt: Date;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The order a batch applies its items in: by number, then by the customer (messages) or message (statuses). */
function lockOrderOf(item: NormalizedItem): string {
  const n = item.number?.phoneNumberId ?? '';
  switch (item.kind) {
    case 'message':
      return `${n}\u0000m\u0000${item.contact.userId ?? ''}\u0000${item.contact.waId ?? ''}`;
    case 'status':
      return `${n}\u0000s\u0000${item.waMessageId}`;
    default:
      return `${n}\u0000a`;
  }
}
