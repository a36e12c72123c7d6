import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { counter } from '@app/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { SecretBox } from '../secrets/secret-box';
import { EventWebhookClock } from './event-clock';
import { EventFanout } from './event-fanout';
import { SIGNATURE_HEADER, signEvent } from './event-signature';
import { EventWebhooksRepository, type DeliveryRow } from './event-webhooks.repository';
import { postPinned, type PostResult } from './target-client';
import { SenderEffects } from './sender-effects';
import { checkTargetUrl, UrlPolicyError } from './url-policy';

const attempts = counter('switchboard_event_webhook_attempts_total', 'Event webhook delivery attempts by outcome', ['outcome']);
const BATCH = 20;

/**
 * Sends due deliveries: claims them (SKIP LOCKED, oldest unfinished per conversation first) under a lease, then
 * per delivery re-checks the URL policy, signs, POSTs and records the attempt. 2xx = delivered; anything else is
 * retried with exponential backoff until EVENT_WEBHOOK_GIVE_UP_MS after the event, then marked failed. After
 * EVENT_WEBHOOK_PAUSE_AFTER failed attempts in a row the subscription is paused and every admin gets a notice.
 */
@Injectable()
export class EventSender implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('EventWebhooks');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
    private readonly ds: DataSource,
    private readonly repo: EventWebhooksRepository,
    private readonly box: SecretBox,
    private readonly clock: EventWebhookClock,
    private readonly fanout: EventFanout,
    private readonly effects: SenderEffects,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.cfg.EVENT_WEBHOOK_SENDER) return;
    this.fanout.onQueued = () => this.kick();
    this.timer = setInterval(() => this.kick(), this.cfg.EVENT_WEBHOOK_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce()
      .catch((err) => {
        this.log.warn(`event webhook pass failed: ${(err as Error).message}`);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One pass: sends what is due now (by the injected clock). Returns how many deliveries were attempted. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const claimed = await this.ds.transaction(async (em) => {
      await this.repo.releaseExpiredLeases(em, now);
      return this.repo.claimDue(em, now, new Date(now.getTime() + this.cfg.EVENT_WEBHOOK_TIMEOUT_MS * 2 + 5_000), BATCH);
    });
    await Promise.all(claimed.map((d) => this.deliver(d)));
    return claimed.length;
  }

  private async deliver(d: DeliveryRow): Promise<void> {
    const sub = await this.repo.getSubscription(this.ds.manager, d.subscriptionId);
    if (!sub) return;
    const started = Date.now();
    let result: PostResult;
    try {
      const { url, addresses } = await checkTargetUrl(sub.url, { httpHosts: this.cfg.EVENT_WEBHOOK_HTTP_HOSTS, allowPrivate: this.cfg.EVENT_WEBHOOK_ALLOW_PRIVATE });
      const ts = Math.floor(this.clock.now().getTime() / 1000);
      result = await postPinned(
        url,
        addresses,
        {
          'content-type': 'application/json',
          'user-agent': 'Switchboard-Webhooks/1',
          [SIGNATURE_HEADER]: signEvent(this.box.open(sub.secretSealed), ts, d.body),
          'Switchboard-Event-Id': d.eventId,
          'Switchboard-Event-Type': d.eventType,
          'Switchboard-Delivery-Id': d.id,
        },
        d.body,
        this.cfg.EVENT_WEBHOOK_TIMEOUT_MS,
      );
    } catch (err) {
      result = { error: err instanceof UrlPolicyError ? err.message : `not sent: ${(err as Error).message}` };
    }
    const now = this.clock.now();
    const ok = 'statusCode' in result && result.statusCode >= 200 && result.statusCode < 300;
    attempts.inc({ outcome: ok ? 'delivered' : 'failed' });
    const statusCode = 'statusCode' in result ? result.statusCode : null;
    const error = 'error' in result ? result.error : ok ? null : `HTTP ${statusCode}`;
    await this.ds.transaction(async (em) => {
      await this.repo.recordAttempt(em, { deliveryId: d.id, at: now, statusCode, error: 'error' in result ? result.error : null, durationMs: Date.now() - started });
      if (ok) await this.repo.markDelivered(em, d.id, statusCode!, now);
      else await this.repo.markFailedAttempt(em, d.id, { statusCode, error, nextAttemptAt: this.nextAttempt(d, now) });
      const after = await this.repo.bumpStreak(em, sub.id, ok);
      if (!ok && after && after.status === 'active' && after.failureStreak >= this.cfg.EVENT_WEBHOOK_PAUSE_AFTER)
        await this.effects.pause(em, sub.id, sub.url, `${after.failureStreak} failed deliveries in a row (last: ${error})`, now);
    });
    if (!ok) this.log.warn(`event webhook delivery ${d.id} to subscription ${sub.id} failed (attempt ${d.attempts + 1}): ${error}`);
  }

  /** Exponential backoff from EVENT_WEBHOOK_RETRY_BASE_MS, capped; null once the event is older than the give-up age. */
  private nextAttempt(d: DeliveryRow, now: Date): Date | null {
    const delay = Math.min(this.cfg.EVENT_WEBHOOK_RETRY_BASE_MS * 2 ** d.attempts, this.cfg.EVENT_WEBHOOK_RETRY_MAX_MS);
    const giveUpAt = new Date(d.createdAt).getTime() + this.cfg.EVENT_WEBHOOK_GIVE_UP_MS;
    if (now.getTime() >= giveUpAt) return null;
    return new Date(Math.min(now.getTime() + delay, giveUpAt));
  }
}
