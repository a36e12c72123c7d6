import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AllInboxEvents, INTEGRATOR_EVENT_SUBJECTS, type IntegratorEventType } from '@app/contracts';
import { Bus, type EventMeta } from '@app/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { EventWebhookClock } from './event-clock';
import { EventWebhooksRepository } from './event-webhooks.repository';

const TYPE_OF_SUBJECT = new Map(Object.entries(INTEGRATOR_EVENT_SUBJECTS).map(([type, subject]) => [subject as string, type as IntegratorEventType]));

/**
 * Reads every INBOX_EVENTS event with one durable consumer, in stream order, and writes one delivery row per
 * interested subscription (unique per subscription + event id, so a redelivered event adds nothing). The row
 * keeps the stream sequence, which is what orders a conversation's deliveries. Sending is the sender's job.
 */
@Injectable()
export class EventFanout implements OnApplicationBootstrap {
  private readonly log = new Logger('EventWebhooks');
  /** Called after new deliveries were written (the sender wakes up). */
  onQueued?: () => void;

  constructor(
    private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly repo: EventWebhooksRepository,
    private readonly clock: EventWebhookClock,
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(AllInboxEvents, { durable: 'gateway-event-webhooks', concurrency: 1, maxDeliver: 20, backoffMs: 1_000, maxBackoffMs: 60_000 }, (e, meta) =>
      this.handle(e as Record<string, unknown> & { eventId: string }, meta),
    );
  }

  async handle(e: Record<string, unknown> & { eventId: string }, meta: EventMeta): Promise<void> {
    const type = TYPE_OF_SUBJECT.get(meta.subject);
    if (!type) return;
    const occurredAt = typeof e.occurredAt === 'string' ? e.occurredAt : this.clock.now().toISOString();
    const subs = await this.repo.subscribersOf(this.ds.manager, type, occurredAt);
    if (!subs.length) return;
    const { eventId, occurredAt: _o, ...data } = e;
    const body = JSON.stringify({ id: eventId, type, occurredAt, data });
    const conversationId = typeof e.conversationId === 'string' ? e.conversationId : null;
    const n = await this.repo.insertDeliveries(this.ds.manager, subs, {
      eventId,
      eventType: type,
      conversationId,
      seq: meta.streamSeq ?? 0,
      body,
      occurredAt,
      now: this.clock.now(),
      settleMs: this.cfg.EVENT_WEBHOOK_SETTLE_MS,
    });
    if (n) {
      this.log.debug(`event ${eventId} (${type}) queued for ${n} subscription(s)`);
      this.onQueued?.();
    }
  }
}
