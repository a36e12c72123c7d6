import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor, TIMESTAMP_TEXT, UUID_TEXT } from '@app/persistence';
import { DirectoryAudit } from '../auth/directory-audit';
import type { Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { SecretBox, viewOf } from '../secrets/secret-box';
import { EventWebhookClock } from './event-clock';
import { EventWebhooksRepository, type DeliveryRow, type DeliveryStatus, type SubscriptionRow, type SubscriptionStatus } from './event-webhooks.repository';
import { checkTargetUrl, UrlPolicyError } from './url-policy';

const present = (s: SubscriptionRow) => ({
  id: s.id,
  url: s.url,
  eventTypes: s.eventTypes,
  description: s.description,
  secret: viewOf({ last4: s.secretLast4 }),
  status: s.status,
  failureStreak: s.failureStreak,
  pausedAt: s.pausedAt,
  pausedReason: s.pausedReason,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});
const auditView = (s: SubscriptionRow) => ({ url: s.url, eventTypes: s.eventTypes, status: s.status, secretLast4: s.secretLast4 });
const presentDelivery = ({ body: _b, seq: _s, subscriptionId: _i, ...d }: DeliveryRow & { attemptLog?: unknown[] }) => ({ ...d, attemptLog: d.attemptLog ?? [] });

/**
 * Integrators' event-webhook subscriptions (URL, event types, signing secret), their delivery log and the
 * redeliver action. A URL that breaks the policy is 400 naming the rule. The secret is sealed at rest and
 * returned only once, when created (or replaced).
 */
@Injectable()
export class EventSubscriptionsService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
    private readonly ds: DataSource,
    private readonly repo: EventWebhooksRepository,
    private readonly box: SecretBox,
    private readonly audit: DirectoryAudit,
    private readonly clock: EventWebhookClock,
  ) {}

  private async checkUrl(url: string): Promise<void> {
    try {
      await checkTargetUrl(url, { httpHosts: this.cfg.EVENT_WEBHOOK_HTTP_HOSTS, allowPrivate: this.cfg.EVENT_WEBHOOK_ALLOW_PRIVATE });
    } catch (err) {
      if (err instanceof UrlPolicyError) throw new BadRequestException({ message: err.message, details: { rule: err.rule } });
      throw err;
    }
  }

  async create(p: { url: string; eventTypes: string[]; description?: string; secret?: string }, by: Principal) {
    await this.checkUrl(p.url);
    const secret = p.secret ?? `whsec_${randomBytes(32).toString('base64url')}`;
    const sealed = this.box.seal(secret);
    const s = await this.ds.transaction(async (em) => {
      const s = await this.repo.insertSubscription(em, {
        url: p.url,
        eventTypes: [...new Set(p.eventTypes)],
        description: p.description ?? null,
        secretSealed: sealed.sealed,
        secretLast4: sealed.last4,
        createdBy: { kind: by.kind, id: by.id },
        now: this.clock.now(),
      });
      await this.audit.record(em, by, { action: 'event-subscription.created', entityType: 'event_subscription', entityId: s.id, before: null, after: auditView(s) });
      return s;
    });
    return { ...present(s), signingSecret: secret };
  }

  async list(cursor: string | undefined, limit = 50) {
    const after = cursor ? decodeCursor<{ createdAt: string; id: string }>(cursor, (o) => TIMESTAMP_TEXT.test(o?.createdAt) && UUID_TEXT.test(o?.id)) : null;
    if (cursor && !after) throw new BadRequestException('cursor is not valid');
    const rows = await this.repo.listSubscriptions(this.ds.manager, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(present), nextCursor: rows.length > limit ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null };
  }

  async get(id: string) {
    return present(await this.mustGet(id));
  }

  private async mustGet(id: string): Promise<SubscriptionRow> {
    const s = await this.repo.getSubscription(this.ds.manager, id);
    if (!s) throw new NotFoundException(`webhook subscription ${id} not found`);
    return s;
  }

  async update(id: string, p: { url?: string; eventTypes?: string[]; description?: string; secret?: string; status?: SubscriptionStatus }, by: Principal) {
    if (p.url !== undefined) await this.checkUrl(p.url);
    const sealed = p.secret !== undefined ? this.box.seal(p.secret) : undefined;
    const s = await this.ds.transaction(async (em) => {
      const before = await this.repo.getSubscription(em, id, true);
      if (!before) throw new NotFoundException(`webhook subscription ${id} not found`);
      const after = await this.repo.updateSubscription(em, id, {
        url: p.url,
        eventTypes: p.eventTypes ? [...new Set(p.eventTypes)] : undefined,
        description: p.description,
        secretSealed: sealed?.sealed,
        secretLast4: sealed?.last4,
        status: p.status,
        now: this.clock.now(),
      });
      await this.audit.record(em, by, { action: 'event-subscription.updated', entityType: 'event_subscription', entityId: id, before: auditView(before), after: auditView(after) });
      return after;
    });
    return present(s);
  }

  async remove(id: string, by: Principal) {
    return this.ds.transaction(async (em) => {
      const before = await this.repo.getSubscription(em, id, true);
      if (!before) throw new NotFoundException(`webhook subscription ${id} not found`);
      await this.repo.deleteSubscription(em, id);
      await this.audit.record(em, by, { action: 'event-subscription.deleted', entityType: 'event_subscription', entityId: id, before: auditView(before), after: null });
      return present(before);
    });
  }

  async deliveries(id: string, q: { status?: DeliveryStatus; cursor?: string; limit?: number }) {
    await this.mustGet(id);
    const limit = q.limit ?? 50;
    const before = q.cursor ? decodeCursor<{ seq: number }>(q.cursor, (o) => Number.isSafeInteger(o?.seq)) : null;
    if (q.cursor && !before) throw new BadRequestException('cursor is not valid');
    const rows = await this.repo.listDeliveries(this.ds.manager, id, { status: q.status, beforeSeq: before?.seq ?? null, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { items: page.map(presentDelivery), nextCursor: rows.length > limit ? encodeCursor({ seq: page[page.length - 1].seq }) : null };
  }

  /** Queues the delivery again now (any state but one being sent); it goes out once the subscription is active. */
  async redeliver(id: string, deliveryId: string, by: Principal) {
    const d = await this.ds.transaction(async (em) => {
      const d = await this.repo.getDelivery(em, id, deliveryId, true);
      if (!d) throw new NotFoundException(`delivery ${deliveryId} of webhook subscription ${id} not found`);
      if (d.status === 'sending') throw new BadRequestException(`delivery ${deliveryId} is being sent right now`);
      await this.repo.requeue(em, deliveryId, this.clock.now());
      await this.audit.record(em, by, {
        action: 'event-subscription.redelivered',
        entityType: 'event_subscription',
        entityId: id,
        before: { deliveryId, status: d.status },
        after: { deliveryId, status: 'pending' },
      });
      return (await this.repo.getDelivery(em, id, deliveryId))!;
    });
    return presentDelivery(d);
  }
}
