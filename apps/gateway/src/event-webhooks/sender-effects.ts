import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { NoticeRequestedV1 } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { DirectoryAudit } from '../auth/directory-audit';
import { EventWebhooksRepository } from './event-webhooks.repository';

/** What pausing a subscription does besides the flag: the admins' notice and the audit entry (same transaction). */
@Injectable()
export class SenderEffects {
  constructor(
    private readonly repo: EventWebhooksRepository,
    private readonly outbox: OutboxWriter,
    private readonly audit: DirectoryAudit,
  ) {}

  async pause(em: EntityManager, id: string, url: string, reason: string, now: Date): Promise<void> {
    if (!(await this.repo.pause(em, id, reason, now))) return;
    const admins = await this.repo.activeAdminIds(em);
    if (admins.length)
      await this.outbox.add(em, NoticeRequestedV1, {
        eventId: randomUUID(),
        occurredAt: now.toISOString(),
        kind: 'system',
        audience: { userIds: admins, teamManagersOf: null },
        conversationId: null,
        title: 'An event webhook was paused',
        body: `Deliveries to ${new URL(url).host} kept failing (${reason}). Fix the receiver, then resume the subscription; queued events will follow.`,
        data: { subscriptionId: id },
        source: 'gateway',
      });
    await this.audit.record(em, null, { action: 'event-subscription.paused', entityType: 'event_subscription', entityId: id, before: { status: 'active' }, after: { status: 'paused', reason } });
  }
}
