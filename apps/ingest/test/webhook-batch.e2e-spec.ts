import { randomUUID } from 'node:crypto';
import { ConversationOpenedV1, MessageReceivedV1 } from '@app/contracts';
import { waitFor } from '@app/testing';
import { IngestHarness } from './ingest-harness';

/**
 * Receipts that queue up are applied several per transaction (INGEST_WEBHOOK_BATCH_SIZE). One transaction slot
 * here, so a burst queues behind the first receipt and is batched. The burst holds a receipt that repeats a
 * wamid of an earlier one (its batch must be rolled back and redone receipt by receipt, item by item) and a
 * receipt with one invalid item beside a valid one: still exactly one message per wamid, the valid neighbours
 * stored, the invalid item recorded once, every receipt marked processed, one customer's messages in order.
 */
describe('ingest: webhook receipts batched per transaction', () => {
  let h: IngestHarness;
  const pnid = `1148961517${Date.now() % 100000}`;
  const customers = Array.from({ length: 12 }, (_, i) => `4915100${String(i).padStart(5, '0')}`);
  const msg = (from: string, wamid: string, text: string, extra: Record<string, unknown> = {}) => ({
    from,
    id: wamid,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: 'text',
    text: { body: text },
    ...extra,
  });
  const body = (messages: unknown[], from = customers[0]) =>
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'waba-batch',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550000000', phone_number_id: pnid },
                contacts: [{ profile: { name: `Customer ${from}` }, wa_id: from }],
                messages,
              },
            },
          ],
        },
      ],
    });

  const wamids: string[] = [];
  const receiptIds: string[] = [];
  let duplicateReceipt = '';
  let mixedReceipt = '';
  const ordered: string[] = [];

  beforeAll(async () => {
    h = await IngestHarness.start({ INGEST_WEBHOOK_CONCURRENCY: '1', INGEST_WEBHOOK_BATCH_SIZE: '16' }, [MessageReceivedV1, ConversationOpenedV1]);
    const publish = async (raw: string) => {
      const id = await h.webhook(raw);
      receiptIds.push(id);
      return id;
    };
    // one message from every customer per round
    const rounds = async (from: number, to: number) => {
      for (let round = from; round < to; round++)
        for (const c of customers) {
          const w = `wamid.batch-${round}-${c}-${randomUUID()}`;
          wamids.push(w);
          if (c === customers[3]) ordered.push(w);
          await publish(body([msg(c, w, `round ${round} from ${c}`)], c));
        }
    };
    await rounds(0, 4);
    // the same wamid again (Meta retries), plus a fresh one in the same receipt
    const fresh = `wamid.batch-fresh-${randomUUID()}`;
    wamids.push(fresh);
    duplicateReceipt = await publish(body([msg(customers[5], wamids[5], 'repeated'), msg(customers[5], fresh, 'fresh')], customers[5]));
    // a valid message beside one without an id (rejected)
    const valid = `wamid.batch-valid-${randomUUID()}`;
    wamids.push(valid);
    const invalid = msg(customers[6], 'x', 'no id') as Record<string, unknown>;
    delete invalid.id;
    mixedReceipt = await publish(body([msg(customers[6], valid, 'valid'), invalid], customers[6]));
    await rounds(4, 6);
    for (const id of receiptIds) await h.processed(id);
  }, 120_000);
  afterAll(() => h?.stop());

  it('stores every wamid exactly once, the repeated one included', async () => {
    const rows = await h.sql<{ wa_message_id: string; n: number }>(
      `SELECT wa_message_id, count(*)::int AS n FROM ingest.message WHERE phone_number_id = $1 GROUP BY wa_message_id`,
      [pnid],
    );
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    expect(rows.map((r) => r.wa_message_id).sort()).toEqual([...wamids].sort());
  });

  it('applied queued receipts several per transaction', async () => {
    // rows written by one transaction share its xmin
    const [r] = await h.sql(`SELECT count(*)::int AS messages, count(DISTINCT xmin::text)::int AS transactions FROM ingest.message WHERE phone_number_id = $1`, [pnid]);
    expect(r.messages).toBe(wamids.length);
    expect(r.transactions).toBeLessThan(r.messages / 2);
  });

  it('one conversation per customer, one opened event each, one message.received per stored message', async () => {
    const [c] = await h.sql(`SELECT count(*)::int AS n FROM ingest.conversation WHERE phone_number_id = $1`, [pnid]);
    expect(c.n).toBe(customers.length);
    await h.outboxDrained();
    await waitFor(() => h.events(MessageReceivedV1).filter((e) => e.phoneNumberId === pnid).length >= wamids.length, { what: 'message.received events' });
    const received = h.events(MessageReceivedV1).filter((e) => e.phoneNumberId === pnid);
    expect(new Set(received.map((e) => e.waMessageId)).size).toBe(wamids.length);
    expect(received).toHaveLength(wamids.length);
    const opened = h.events(ConversationOpenedV1).filter((e) => e.phoneNumberId === pnid);
    expect(new Set(opened.map((e) => e.conversationId)).size).toBe(customers.length);
    expect(opened).toHaveLength(customers.length);
  });

  it('records the invalid item once and keeps its valid neighbour; the repeated receipt is fully processed', async () => {
    const rejected = await h.sql(`SELECT receipt_id, path FROM ingest.rejected_item WHERE receipt_id = $1`, [mixedReceipt]);
    expect(rejected).toEqual([{ receipt_id: mixedReceipt, path: expect.stringMatching(/messages\[1\]$/) }]);
    const [m] = await h.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE receipt_id = $1`, [mixedReceipt]);
    expect(m.n).toBe(1);
    const [d] = await h.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE receipt_id = $1`, [duplicateReceipt]);
    expect(d.n).toBe(1); // the fresh one; the repeated wamid stayed with its first receipt
    const [p] = await h.sql(`SELECT count(*)::int AS n FROM ingest.processed_event WHERE consumer = 'ingest-webhooks' AND event_id = ANY($1::text[])`, [receiptIds]);
    expect(p.n).toBe(receiptIds.length);
  });

  it("keeps one customer's messages in arrival order", async () => {
    const rows = await h.sql<{ wa_message_id: string }>(
      `SELECT m.wa_message_id FROM ingest.message m JOIN ingest.contact c ON c.id = (SELECT contact_id FROM ingest.conversation WHERE id = m.conversation_id)
       WHERE m.phone_number_id = $1 AND c.wa_id = $2 ORDER BY m.seq`,
      [pnid, customers[3]],
    );
    expect(rows.map((r) => r.wa_message_id)).toEqual(ordered);
  });
});
