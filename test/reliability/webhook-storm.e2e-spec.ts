import { randomUUID } from 'node:crypto';
import { OutboundQueuedV1, OutboundSentV1 } from '@app/contracts';
import { waitFor } from '@app/testing';
import { normalizeWebhook } from '../../apps/ingest/src/normalize/webhook.normalizer';
import { shuffle, withNumberSuffix } from '../../apps/ingest/test/ingest-harness';
import { webhookFixtures } from '../support/fixtures';
import { Stack } from '../support/stack';

/**
 * Webhook storm through the real HTTP endpoint (signed), the receipt relay, JetStream and ingest: every message
 * fixture delivered 3 times, every real status fixture 3 times (their wamids made our outbound messages first; three
 * of them are one message's sent → delivered → read), and a status lifecycle (sent, delivered, read — or failed)
 * for more outbound messages, each status 3 times, all in one shuffled order with random delays and several
 * requests in flight.
 * Afterwards exactly one message per wamid, and every outbound message's status only ever moved forward
 * (sampled all along) to the right final state. STORM_SENDS / STORM_SEED scale and replay it.
 */
const SENDS = Number(process.env.STORM_SENDS ?? (process.env.RELIABILITY_HEAVY ? 400 : 40));
const SEED = Number(process.env.STORM_SEED ?? Date.now() % 1_000_000);
const NUMBER = '1555000401';
/** Forward order of delivery states; failed sits between sent and delivered (a later delivery proves it arrived). */
const RANK: Record<string, number> = { queued: 0, sent: 1, failed: 1.5, delivered: 2, read: 3 };

function statusWebhook(wamid: string, status: string, ts: number): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: NUMBER, phone_number_id: NUMBER },
      statuses: [{ id: wamid, status, timestamp: String(ts), recipient_id: '4915400000001',
        ...(status === 'failed' ? { errors: [{ code: 131026, title: 'Message undeliverable' }] } : {}) }],
    } }] }],
  });
}

describe(`reliability: webhook storm (seed ${SEED}), fixtures ×3 and ${SENDS} status lifecycles ×3, shuffled`, () => {
  let s: Stack;
  beforeAll(async () => {
    s = await Stack.start({ INGEST_WEBHOOK_CONCURRENCY: '4' });
  }, 60_000);
  afterAll(() => s?.stop());

  it('stores exactly one message per wamid and moves every status only forward, to the right final state', async () => {
    const fixtures = webhookFixtures().filter((f) => !f.name.startsWith('statuses/'));
    const bodies = fixtures.map((f, i) => withNumberSuffix(f.raw, `-storm${i}`));
    const expectedMessages = bodies.flatMap((raw) => normalizeWebhook(raw, new Date()).items.filter((i) => i.kind === 'message')).length;
    // the real status fixtures, on numbers of their own ('-lifecycle', outside the '-storm' count); the final state of
    // each of their messages is the furthest status any fixture gives it
    const statusBodies = webhookFixtures().filter((f) => f.name.startsWith('statuses/')).map((f) => withNumberSuffix(f.raw, '-lifecycle'));
    const fixtureFinal = new Map<string, { phoneNumberId: string; wamid: string; status: string }>();
    for (const item of statusBodies.flatMap((raw) => normalizeWebhook(raw, new Date()).items)) {
      if (item.kind !== 'status') continue;
      const key = `${item.number.phoneNumberId}|${item.waMessageId}`;
      const known = fixtureFinal.get(key);
      if (!known || RANK[item.status] > RANK[known.status]) fixtureFinal.set(key, { phoneNumberId: item.number.phoneNumberId, wamid: item.waMessageId, status: item.status });
    }
    expect(fixtureFinal.size).toBeGreaterThanOrEqual(6);
    expect([...fixtureFinal.values()].every((f) => f.status in RANK)).toBe(true);

    // our outbound messages, known to ingest before the storm (as notifications' events make them)
    const sends = Array.from({ length: SENDS }, (_, i) => ({
      sendId: randomUUID(),
      wamid: `wamid.storm-${SEED}-${i}`,
      lifecycle: i % 5 === 4 ? ['sent', 'failed'] : i % 5 === 3 ? ['sent', 'delivered'] : ['sent', 'delivered', 'read'],
    }));
    for (const x of sends) {
      const ref = { sendId: x.sendId, phoneNumberId: NUMBER, conversationId: null };
      const at = new Date().toISOString();
      await s.peer.publish(OutboundQueuedV1, { eventId: randomUUID(), occurredAt: at, ...ref, to: '4915400000001', kind: 'text', text: 'hi', content: { type: 'text', text: { body: 'hi' } }, senderId: null, senderName: null });
      await s.peer.publish(OutboundSentV1, { eventId: randomUUID(), occurredAt: at, ...ref, waMessageId: x.wamid });
    }
    for (const f of fixtureFinal.values()) {
      const ref = { sendId: randomUUID(), phoneNumberId: f.phoneNumberId, conversationId: null };
      const at = new Date().toISOString();
      await s.peer.publish(OutboundQueuedV1, { eventId: randomUUID(), occurredAt: at, ...ref, to: '4915400000001', kind: 'text', text: 'hi', content: { type: 'text', text: { body: 'hi' } }, senderId: null, senderName: null });
      await s.peer.publish(OutboundSentV1, { eventId: randomUUID(), occurredAt: at, ...ref, waMessageId: f.wamid });
    }
    const tracked = [...sends.map((x) => `${NUMBER}|${x.wamid}`), ...fixtureFinal.keys()];
    const trackedStatuses = async () =>
      new Map(
        (
          await s.sql<{ k: string; status: string }>(`SELECT phone_number_id || '|' || wa_message_id AS k, status FROM ingest.message WHERE phone_number_id || '|' || wa_message_id = ANY($1)`, [
            tracked,
          ])
        ).map((r) => [r.k, r.status]),
      );
    await waitFor(async () => (await s.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE wa_message_id = ANY($1)`, [sends.map((x) => x.wamid)]))[0].n === SENDS && (await trackedStatuses()).size === tracked.length, {
      what: 'outbound messages linked to their wamids',
      timeoutMs: 20_000,
    });

    const t0 = Math.floor(Date.now() / 1000);
    const deliveries: string[] = [];
    for (let copy = 0; copy < 3; copy++) {
      deliveries.push(...bodies, ...statusBodies);
      for (const x of sends) x.lifecycle.forEach((st, k) => deliveries.push(statusWebhook(x.wamid, st, t0 + k)));
    }
    const order = shuffle(deliveries, SEED);

    // sample every status while the storm runs
    const seen = new Map<string, string[]>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [k, status] of await trackedStatuses()) {
          const list = seen.get(k) ?? [];
          if (list[list.length - 1] !== status) list.push(status);
          seen.set(k, list);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    let next = 0;
    let rnd = SEED;
    const delay = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31), rnd % 15);
    const answers = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < order.length) {
          const raw = order[next++];
          await new Promise((r) => setTimeout(r, delay()));
          const res = await s.webhook(raw);
          answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(answers)).toEqual({ 200: order.length });

    const finalOf = (lifecycle: string[]) =>
      lifecycle.includes('read') ? 'read' : lifecycle.includes('delivered') ? 'delivered' : lifecycle.includes('failed') ? 'failed' : 'sent';
    await waitFor(
      async () => {
        const by = await trackedStatuses();
        const [{ n }] = await s.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE phone_number_id LIKE '%-storm%'`);
        return (
          n === expectedMessages &&
          sends.every((x) => by.get(`${NUMBER}|${x.wamid}`) === finalOf(x.lifecycle)) &&
          [...fixtureFinal].every(([k, f]) => by.get(k) === f.status)
        );
      },
      { what: 'one message per fixture wamid and final statuses', timeoutMs: 60_000 },
    );
    // receipts all finished, so late duplicates cannot appear after the check
    await waitFor(async () => (await s.sql(`SELECT count(*)::int AS n FROM gateway.outbox WHERE published_at IS NULL`))[0].n === 0, { what: 'relay drained' });
    await waitFor(
      async () => (await s.sql(`SELECT count(*)::int AS n FROM ingest.processed_event WHERE consumer = 'ingest-webhooks'`))[0].n >= order.length,
      { what: 'every receipt handled', timeoutMs: 60_000 },
    );
    sampling = false;
    await sampler;

    const dupes = await s.sql(`SELECT phone_number_id, wa_message_id, count(*)::int AS n FROM ingest.message GROUP BY 1, 2 HAVING count(*) > 1`);
    expect(dupes).toEqual([]);
    const [{ n }] = await s.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE phone_number_id LIKE '%-storm%'`);
    expect(n).toBe(expectedMessages);
    const [{ n: linked }] = await s.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE phone_number_id LIKE '%-lifecycle'`);
    expect(linked).toBe(fixtureFinal.size); // the status fixtures created no message of their own
    const backwards = [...seen].filter(([, list]) => list.some((st, i) => i > 0 && RANK[st] < RANK[list[i - 1]]));
    expect(backwards).toEqual([]);
    expect(await s.sql(`SELECT path, reason FROM ingest.rejected_item`)).toEqual([]);
    process.stdout.write(
      `webhook storm (seed ${SEED}): ${order.length} signed deliveries (${bodies.length} message and other fixtures ×3, ${statusBodies.length} status fixtures ×3, ${SENDS} lifecycles ×3), ${expectedMessages} messages stored once, ${SENDS + fixtureFinal.size} statuses final and monotonic over ${[...seen.values()].reduce((a, l) => a + l.length, 0)} observed states\n`,
    );
  }, 180_000);
});
