import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { z } from 'zod';
import { CheckSendV1, MarkReadV1, SendMessageV1, describeIssues } from '@app/contracts';
import { Bus, BusError, ValidationError } from '@app/messaging';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';
import { GraphClient } from '../graph/graph.client';
import { SendService } from './send.service';
import { SendWorker } from './send.worker';

/**
 * Answers notifications.send-message.v1, notifications.check-send.v1 and notifications.mark-read.v1. The request
 * is parsed here (not by the bus) so a refusal names the field: `VALIDATION: message.body: text must not be empty`.
 */
@Injectable()
export class DeliveryHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(NOTIFICATIONS_CONFIG) private readonly cfg: NotificationsConfig,
    private readonly service: SendService,
    private readonly worker: SendWorker,
    private readonly graph: GraphClient,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond({ ...SendMessageV1, request: z.unknown() } as unknown as typeof SendMessageV1, async (body) => {
      const res = await this.service.enqueue(body);
      if (!res.duplicate) this.worker.kick();
      return res;
    });
    await this.bus.respond({ ...CheckSendV1, request: z.unknown() } as unknown as typeof CheckSendV1, (body) => this.service.check(body));
    await this.bus.respond({ ...MarkReadV1, request: z.unknown() } as unknown as typeof MarkReadV1, (body) => this.markRead(body));
  }

  async markRead(input: unknown): Promise<{ done: boolean }> {
    const parsed = MarkReadV1.request.safeParse(input);
    if (!parsed.success) throw new ValidationError(describeIssues(parsed.error.issues), parsed.error.issues);
    if (!this.cfg.OUTBOUND_MARK_READ) return { done: false };
    const { phoneNumberId, waMessageId, typing } = parsed.data;
    const res = await this.graph.postMessage(
      phoneNumberId,
      { messaging_product: 'whatsapp', status: 'read', message_id: waMessageId, ...(typing ? { typing_indicator: { type: 'text' } } : {}) },
      1_500,
    );
    if (res.kind === 'ok') return { done: res.body.success === true };
    if (res.kind === 'error') throw new BusError('CONFLICT', `WhatsApp refused mark-as-read: ${res.title}${res.code !== null ? ` (code ${res.code})` : ''}`);
    throw new BusError('UNAVAILABLE', `WhatsApp did not answer mark-as-read (${res.reason})`);
  }
}
