import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import type { SentMessage } from '../graph/sandbox-state';

export const displayNumberOf = (phoneNumberId: string) => `1555${phoneNumberId.slice(-7).padStart(7, '0')}`;

/**
 * Sends Meta-shaped webhooks (REFERENCE §1.4) signed with `X-Hub-Signature-256: sha256=<hmac of raw body>`
 * (§1.2) to SANDBOX_WEBHOOK_URL, retrying a failed delivery a few times with backoff (§1.3).
 */
@Injectable()
export class WebhookSender implements OnApplicationShutdown {
  private readonly log = new Logger('SandboxWebhooks');
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  delivered = 0;
  failed = 0;

  constructor(@Inject(SANDBOX_CONFIG) private readonly cfg: SandboxConfig) {}

  envelope(phoneNumberId: string, value: Record<string, unknown>) {
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: this.cfg.SANDBOX_WABA_ID,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: displayNumberOf(phoneNumberId), phone_number_id: phoneNumberId },
                ...value,
              },
            },
          ],
        },
      ],
    };
  }

  /** sent → delivered → read for one accepted message, with the configured delays, duplicates and disorder. */
  scheduleStatuses(m: SentMessage): void {
    if (!this.cfg.SANDBOX_WEBHOOKS) return;
    const names = ['sent', 'delivered', 'read'] as const;
    let delays = [...this.cfg.SANDBOX_STATUS_DELAYS_MS];
    if (Math.random() < this.cfg.SANDBOX_STATUS_OUT_OF_ORDER_RATE) delays = [...delays].reverse();
    names.forEach((status, i) => {
      const body = this.envelope(m.phoneNumberId, {
        statuses: [
          {
            id: m.waMessageId,
            status,
            timestamp: String(Math.floor(Date.now() / 1000) + Math.floor(delays[i] / 1000)),
            recipient_id: m.to,
            pricing: { billable: m.type === 'template', pricing_model: 'PMP', category: m.type === 'template' ? 'utility' : 'service', type: m.type === 'template' ? 'regular' : 'free_customer_service' },
          },
        ],
      });
      this.later(delays[i], () => this.deliver(body));
      if (Math.random() < this.cfg.SANDBOX_STATUS_DUPLICATE_RATE) this.later(delays[i] + 50, () => this.deliver(body));
    });
  }

  /** A customer writes to the business. Resolves once the webhook was accepted (or finally failed). */
  async customerMessage(phoneNumberId: string, contact: { waId: string; name: string }, message: Record<string, unknown>): Promise<boolean> {
    const body = this.envelope(phoneNumberId, {
      contacts: [{ profile: { name: contact.name }, wa_id: contact.waId }],
      messages: [message],
    });
    return this.deliver(body);
  }

  private later(ms: number, fn: () => unknown): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }

  /** POST with up to 5 attempts (0.5, 1, 2, 4 s apart). */
  async deliver(payload: unknown, attempt = 1): Promise<boolean> {
    if (this.stopped) return false;
    const raw = JSON.stringify(payload);
    const sig = createHmac('sha256', this.cfg.WHATSAPP_APP_SECRET[0]).update(raw).digest('hex');
    try {
      const res = await fetch(this.cfg.SANDBOX_WEBHOOK_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${sig}` },
        body: raw,
        signal: AbortSignal.timeout(10_000),
      });
      if (res.ok) {
        this.delivered++;
        return true;
      }
      throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      if (attempt >= 5 || this.stopped) {
        this.failed++;
        this.log.warn(`webhook delivery failed after ${attempt} attempts: ${(err as Error).message}`);
        return false;
      }
      await new Promise<void>((r) => this.later(500 * 2 ** (attempt - 1), r));
      return this.deliver(payload, attempt + 1);
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
