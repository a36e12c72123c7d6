import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { WebhookReceivedV1, type PayloadOf } from '@app/contracts';
import { Bus, type EventMeta } from '@app/messaging';
import { claimEvent } from '@app/persistence';
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
 */
@Injectable()
export class WebhookHandler implements OnApplicationBootstrap {
  private readonly log = new Logger('Webhooks');

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
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(
      WebhookReceivedV1,
      {
        durable: 'ingest-webhooks',
        concurrency: this.cfg.INGEST_WEBHOOK_CONCURRENCY,
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
    // invalid items are recorded once, on the first delivery; a redelivery only retries what failed for other reasons
    if ((meta?.deliveryCount ?? 1) === 1) for (const r of rejected) await this.reject(evt.eventId, r);
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
