import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { WebhookReceivedV1, type EventContract, type PayloadOf } from '@app/contracts';
import { parseConfig } from '@app/config';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { IngestConfigSchema } from '../src/config';
import { IngestModule } from '../src/ingest.module';
import { normalizeWebhook } from '../src/normalize/webhook.normalizer';

/** Ingest on a fresh database and NATS namespace, plus a second connection playing the gateway and other services. */
export class IngestHarness {
  env!: TestEnv;
  app!: INestApplication;
  ds!: DataSource;
  /** Publishes what the gateway / notifications / routing would, and observes ingest's events. */
  peer!: NatsBus;
  private readonly seen = new Map<string, unknown[]>();

  static async start(extra: Record<string, string> = {}, observe: EventContract[] = []): Promise<IngestHarness> {
    const h = new IngestHarness();
    h.env = await createTestEnv({ MEDIA_DIR: `/tmp/ingest-media-${randomUUID()}`, ...extra });
    h.app = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, h.env.env)));
    h.ds = h.app.get(DataSource);
    h.peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: h.env.namespace, service: 'peer' });
    for (const c of observe) {
      const list: unknown[] = [];
      h.seen.set(c.subject, list);
      await h.peer.consume(c, { durable: `peer-${c.subject.replace(/\./g, '-')}` }, async (p) => {
        list.push(p);
      });
    }
    return h;
  }

  async stop(): Promise<void> {
    await this.peer?.close();
    await this.app?.close();
    await this.env?.cleanup();
  }

  events<C extends EventContract>(c: C): PayloadOf<C>[] {
    const list = this.seen.get(c.subject);
    if (!list) throw new Error(`not observing ${c.subject}`);
    return list as PayloadOf<C>[];
  }

  /** Publishes a raw body as the gateway's relay would (event id = receipt id). */
  async webhook(raw: string, receiptId: string = randomUUID(), occurredAt = new Date().toISOString()): Promise<string> {
    await this.peer.publish(WebhookReceivedV1, { eventId: receiptId, occurredAt, body: raw });
    return receiptId;
  }

  /** Waits until ingest has handled every item of the receipt (it then records the receipt as processed). */
  async processed(receiptId: string, raw?: string): Promise<void> {
    const what = raw ? `receipt ${receiptId} (${normalizeWebhook(raw, new Date()).items.length} items)` : `receipt ${receiptId}`;
    await waitFor(
      async () =>
        (await this.ds.query(`SELECT 1 FROM ingest.processed_event WHERE consumer = 'ingest-webhooks' AND event_id = $1`, [receiptId])).length > 0,
      { what },
    );
  }

  async sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.ds.query(text, params);
  }

  /** Waits until the outbox is relayed (events visible to observers). */
  async outboxDrained(): Promise<void> {
    await waitFor(
      async () => {
        const [r] = await this.ds.query(`SELECT count(*)::int AS n FROM ingest.outbox WHERE published_at IS NULL`);
        return r.n === 0;
      },
      { what: 'outbox drained' },
    );
  }
}

/** Gives every phone_number_id in a raw body a suffix, so fixtures sharing ids (docs examples) stay apart. */
export function withNumberSuffix(raw: string, suffix: string): string {
  return raw.replace(/("phone_number_id"\s*:\s*")([^"]*)(")/g, `$1$2${suffix}$3`);
}

/** Deterministic shuffle (mulberry32) so a failure can be replayed with the same seed. */
export function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let a = seed;
  const rnd = () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
