import { randomUUID } from 'node:crypto';
import { register } from 'prom-client';
import {
  CsatAnsweredV1,
  csatReplyId,
  ConversationOpenedV1,
  ConversationResolvedV1,
  GetConversationV1,
  ListConversationsV1,
  ListMessagesV1,
  MessageStatusChangedV1,
  OutboundFailedV1,
  OutboundQueuedV1,
  OutboundSentV1,
} from '@app/contracts';
import { RemoteError } from '@app/messaging';
import { waitFor } from '@app/testing';
import { IngestHarness } from './ingest-harness';

const PN = 'PN-CONV';
let seq = 0;
const uid = (p: string) => `${p}.${Date.now()}.${++seq}`;

interface Msg {
  from?: string;
  fromUserId?: string;
  id?: string;
  ts: number | string;
  text?: string;
  type?: string;
  extra?: Record<string, unknown>;
}
function body(opts: { pn?: string; contacts?: unknown[]; messages?: Msg[]; statuses?: unknown[]; echoes?: unknown[] }): string {
  const value: Record<string, unknown> = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550001234', phone_number_id: opts.pn ?? PN },
  };
  if (opts.contacts) value.contacts = opts.contacts;
  if (opts.messages) {
    value.messages = opts.messages.map((m) => ({
      ...(m.from !== undefined ? { from: m.from } : {}),
      ...(m.fromUserId ? { from_user_id: m.fromUserId } : {}),
      ...(m.id ? { id: m.id } : {}),
      timestamp: m.ts,
      type: m.type ?? 'text',
      ...(m.type && m.type !== 'text' ? {} : { text: { body: m.text ?? 'hello' } }),
      ...m.extra,
    }));
  }
  if (opts.statuses) value.statuses = opts.statuses;
  const changes: unknown[] = [{ field: 'messages', value }];
  if (opts.echoes) changes.push({ field: 'smb_message_echoes', value: { ...value, messages: undefined, message_echoes: opts.echoes } });
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'WABA-CONV', changes }] });
}

describe('ingest: conversations, contacts, statuses, outbound lifecycle and bad input on real PostgreSQL and JetStream', () => {
  let h: IngestHarness;

  beforeAll(async () => {
    h = await IngestHarness.start({}, [ConversationOpenedV1, MessageStatusChangedV1, CsatAnsweredV1]);
  });
  afterAll(() => h?.stop());

  const send = async (raw: string, occurredAt?: string) => {
    const id = await h.webhook(raw, randomUUID(), occurredAt);
    await h.processed(id, raw);
    return id;
  };
  const conversationOf = async (wamid: string) =>
    (await h.sql(`SELECT conversation_id FROM ingest.message WHERE wa_message_id = $1`, [wamid]))[0]?.conversation_id as string;

  describe('bad input', () => {
    it('rejects the message without id with its reason and stores the rest of the batch', async () => {
      const ok1 = uid('wamid.ok');
      const ok2 = uid('wamid.ok');
      const raw = body({
        contacts: [{ profile: { name: 'A' }, wa_id: '15550000001' }],
        messages: [{ from: '15550000001', id: ok1, ts: 1750000000 }, { from: '15550000001', ts: 1750000001 }, { from: '15550000001', id: ok2, ts: 1750000002 }],
      });
      const receiptId = await send(raw);
      expect(await h.sql(`SELECT path, reason FROM ingest.rejected_item WHERE receipt_id = $1`, [receiptId])).toEqual([
        { path: 'entry[0].changes[0].value.messages[1]', reason: 'message has no id' },
      ]);
      const stored = await h.sql(`SELECT wa_message_id FROM ingest.message WHERE receipt_id = $1 ORDER BY sent_at`, [receiptId]);
      expect(stored.map((r) => r.wa_message_id)).toEqual([ok1, ok2]);
      expect(await register.getSingleMetricAsString('switchboard_ingest_rejected_items_total')).toMatch(/item="messages"} [1-9]/);
    });

    it.each([
      ['not JSON at all', 'this is not json', 'body is not JSON'],
      ['another Meta object', '{"object":"instagram","entry":[]}', 'not whatsapp_business_account'],
    ])('records a body that is %s as a rejected item, never crashing', async (_what, raw, reason) => {
      const receiptId = await h.webhook(raw);
      await h.processed(receiptId);
      const [r] = await h.sql(`SELECT path, reason FROM ingest.rejected_item WHERE receipt_id = $1`, [receiptId]);
      expect(r.path).toMatch(/^\$/);
      expect(r.reason).toContain(reason);
      // the consumer keeps going
      const wamid = uid('wamid.after');
      await send(body({ messages: [{ from: '15550000002', id: wamid, ts: 1750000000 }] }));
      expect(await conversationOf(wamid)).toBeDefined();
    });
  });

  it('a database failure while storing a message is retried until it works: the message is stored, never rejected', async () => {
    const wamid = uid('wamid.outage');
    const raw = body({ messages: [{ from: '15550000020', id: wamid, ts: 1750000000, text: 'during the outage' }] });
    await h.sql(`ALTER TABLE ingest.message RENAME TO message_away`);
    let restored = false;
    try {
      const receipt = await h.webhook(raw);
      // let at least two deliveries fail (backoff 1 s, 2 s, …)
      const retried = async () =>
        (await register.getSingleMetric('switchboard_bus_events_total')?.get())?.values.find(
          (v) => v.labels.durable === 'ingest-webhooks' && v.labels.outcome === 'retried',
        )?.value ?? 0;
      await waitFor(async () => (await retried()) >= 2, { what: 'two failed deliveries', timeoutMs: 15_000, intervalMs: 200 });
      await h.sql(`ALTER TABLE ingest.message_away RENAME TO message`);
      restored = true;
      await h.processed(receipt, raw);
    } finally {
      if (!restored) await h.sql(`ALTER TABLE ingest.message_away RENAME TO message`);
    }
    expect(await conversationOf(wamid)).toBeDefined();
    const rejected = await h.sql(`SELECT count(*)::int AS n FROM ingest.rejected_item WHERE reason LIKE '%message_away%' OR reason LIKE '%ingest.message%'`);
    expect(rejected[0].n).toBe(0);
  });

  describe('conversations', () => {
    it('reopens a resolved conversation on a new customer message, in the same thread', async () => {
      const first = uid('wamid.r1');
      await send(body({ contacts: [{ profile: { name: 'R' }, wa_id: '15550000010' }], messages: [{ from: '15550000010', id: first, ts: 1750000000 }] }));
      const conversationId = await conversationOf(first);
      await h.peer.publish(ConversationResolvedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), conversationId, resolvedBy: 'agent-1' });
      await waitFor(async () => (await h.peer.request(GetConversationV1, { conversationId })).status === 'resolved', { what: 'resolved' });

      const second = uid('wamid.r2');
      await send(body({ messages: [{ from: '15550000010', id: second, ts: 1750000100, text: 'me again' }] }));
      expect(await conversationOf(second)).toBe(conversationId);
      const c = await h.peer.request(GetConversationV1, { conversationId });
      expect(c).toMatchObject({ status: 'open', messageCount: 2, lastMessageText: 'me again', lastInboundAt: new Date(1750000100_000).toISOString() });
      await h.outboxDrained();
      const opened = await waitFor(() => {
        const list = h.events(ConversationOpenedV1).filter((e) => e.conversationId === conversationId);
        return list.length === 2 ? list : undefined;
      }, { what: 'opened + reopened' });
      expect(opened.map((e) => e.reopened).sort()).toEqual([false, true]);
      expect(opened.find((e) => e.reopened)).toMatchObject({ contactName: 'R', waId: '15550000010', phoneNumberId: PN });
    });

    it('ignores a resolve that happened before the latest reopen, and a repeated resolve event', async () => {
      const first = uid('wamid.s1');
      const t0 = Date.now();
      await send(body({ messages: [{ from: '15550000011', id: first, ts: 1750000000 }] }), new Date(t0).toISOString());
      const conversationId = await conversationOf(first);
      const resolve = { eventId: randomUUID(), occurredAt: new Date(t0 + 1000).toISOString(), conversationId, resolvedBy: null };
      await h.peer.publish(ConversationResolvedV1, resolve);
      await waitFor(async () => (await h.peer.request(GetConversationV1, { conversationId })).status === 'resolved', { what: 'resolved' });
      await send(body({ messages: [{ from: '15550000011', id: uid('wamid.s2'), ts: 1750000100 }] }), new Date(t0 + 2000).toISOString());
      // late: happened before the reopen
      await h.peer.publish(ConversationResolvedV1, { ...resolve, eventId: randomUUID(), occurredAt: new Date(t0 + 1500).toISOString() });
      await h.peer.publish(ConversationResolvedV1, resolve, { msgId: randomUUID() }); // redelivered copy
      await waitFor(async () => {
        const [r] = await h.sql(`SELECT count(*)::int AS n FROM ingest.processed_event WHERE consumer = 'ingest-conversation-resolved'`);
        return r.n >= 2;
      }, { what: 'resolve events handled' });
      await new Promise((r) => setTimeout(r, 300));
      expect((await h.peer.request(GetConversationV1, { conversationId })).status).toBe('open');
    });

    it('ignores a resolve decided before a customer message it had not seen (routing reopens that work item)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const first = uid('wamid.u1');
      await send(body({ messages: [{ from: '15550000019', id: first, ts: now - 120 }] }));
      const conversationId = await conversationOf(first);
      // the customer writes at `now`; the agent's resolve (decided at now - 60 s) reaches ingest only afterwards
      await send(body({ messages: [{ from: '15550000019', id: uid('wamid.u2'), ts: now }] }));
      await h.peer.publish(ConversationResolvedV1, { eventId: randomUUID(), occurredAt: new Date((now - 60) * 1000).toISOString(), conversationId, resolvedBy: 'agent-2' });
      await waitFor(async () => {
        const [r] = await h.sql(`SELECT count(*)::int AS n FROM ingest.processed_event WHERE consumer = 'ingest-conversation-resolved'`);
        return r.n >= 1;
      }, { what: 'resolve event handled' });
      await new Promise((r) => setTimeout(r, 300));
      expect((await h.peer.request(GetConversationV1, { conversationId })).status).toBe('open');
    });

    it('shows an echo as an outbound message that neither reopens nor opens the 24 h window', async () => {
      const first = uid('wamid.e1');
      await send(body({ messages: [{ from: '15550000012', id: first, ts: 1750000000 }] }));
      const conversationId = await conversationOf(first);
      await h.peer.publish(ConversationResolvedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), conversationId, resolvedBy: null });
      await waitFor(async () => (await h.peer.request(GetConversationV1, { conversationId })).status === 'resolved', { what: 'resolved' });
      const echo = uid('wamid.echo');
      const raw = body({ echoes: [{ from: '15550001234', to: '15550000012', id: echo, timestamp: '1750000500', type: 'text', text: { body: 'typed on the phone' } }] });
      await send(raw);
      await send(raw); // delivered twice: one message
      const c = await h.peer.request(GetConversationV1, { conversationId });
      expect(c).toMatchObject({ status: 'resolved', messageCount: 2, lastInboundAt: new Date(1750000000_000).toISOString(), lastMessageText: 'typed on the phone' });
      const page = await h.peer.request(ListMessagesV1, { conversationId, limit: 10 });
      expect(page.items.map((m) => [m.direction, m.origin, m.text])).toEqual([
        ['inbound', 'customer', 'hello'],
        ['outbound', 'echo', 'typed on the phone'],
      ]);
    });

    it('keeps the referral of a message from a click-to-WhatsApp ad', async () => {
      const wamid = uid('wamid.ad');
      const referral = { source_url: 'https://fb.me/x', source_id: 'ad-1', source_type: 'ad', headline: 'Sale', body: 'Now', media_type: 'image', ctwa_clid: 'clid-1' };
      await send(body({ messages: [{ from: '15550000014', id: wamid, ts: 1750000000, extra: { referral } }] }));
      const page = await h.peer.request(ListMessagesV1, { conversationId: await conversationOf(wamid), limit: 10 });
      expect(page.items[0].referral).toEqual(referral);
    });

    it('links a reply to the quoted message, also when the quoted one arrives later', async () => {
      const quoted = uid('wamid.q');
      const reply = uid('wamid.reply');
      await send(body({ messages: [{ from: '15550000013', id: reply, ts: 1750000100, extra: { context: { from: '15550001234', id: quoted, forwarded: true } } }] }));
      await send(body({ messages: [{ from: '15550000013', id: quoted, ts: 1750000000 }] }));
      const page = await h.peer.request(ListMessagesV1, { conversationId: await conversationOf(reply), limit: 10 });
      const [q, r] = page.items; // ordered by WhatsApp timestamp, not arrival
      expect(q.waMessageId).toBe(quoted);
      expect(r).toMatchObject({ waMessageId: reply, contextWaMessageId: quoted, contextMessageId: q.id, forwarded: true });
    });
  });

  describe('contacts', () => {
    it('works with a user_id and an empty wa_id, then attaches the phone when a payload carries both', async () => {
      const userId = `BR.${Date.now()}`;
      const a = uid('wamid.c1');
      await send(body({ contacts: [{ profile: { name: 'Hidden' }, wa_id: '', user_id: userId }], messages: [{ from: '', fromUserId: userId, id: a, ts: 1750000000 }] }));
      const b = uid('wamid.c2');
      await send(body({ contacts: [{ profile: { name: 'Shown' }, wa_id: '15550000020', user_id: userId }], messages: [{ from: '15550000020', fromUserId: userId, id: b, ts: 1750000001 }] }));
      expect(await conversationOf(b)).toBe(await conversationOf(a));
      const c = await h.peer.request(GetConversationV1, { conversationId: await conversationOf(a) });
      expect(c.contact).toMatchObject({ userId, waId: '15550000020', name: 'Shown' });
    });

    it('a contact first known by phone gets its user_id later; user_changed_user_id moves the BSUID', async () => {
      const a = uid('wamid.p1');
      await send(body({ contacts: [{ profile: { name: 'P' }, wa_id: '15550000021' }], messages: [{ from: '15550000021', id: a, ts: 1750000000 }] }));
      const b = uid('wamid.p2');
      await send(body({ contacts: [{ profile: { name: 'P' }, wa_id: '15550000021', user_id: `US.${seq}1` }], messages: [{ from: '15550000021', id: b, ts: 1750000001 }] }));
      const conversationId = await conversationOf(a);
      expect(await conversationOf(b)).toBe(conversationId);
      const newId = `US.${seq}2`;
      await send(body({ messages: [{ from: '15550000021', id: uid('wamid.sys'), ts: 1750000002, type: 'system', extra: { system: { type: 'user_changed_user_id', body: 'changed', user_id: newId } } }] }));
      const c = await h.peer.request(GetConversationV1, { conversationId });
      expect(c.contact).toMatchObject({ userId: newId, waId: '15550000021' });
      // the next message with the new BSUID lands in the same thread
      const d = uid('wamid.p3');
      await send(body({ contacts: [{ profile: { name: 'P' }, user_id: newId }], messages: [{ fromUserId: newId, id: d, ts: 1750000003 }] }));
      expect(await conversationOf(d)).toBe(conversationId);
    });
  });

  it('user_changed_number moves the phone of the same contact; later messages from the new number join the thread', async () => {
    const a = uid('wamid.n1');
    await send(body({ contacts: [{ profile: { name: 'N' }, wa_id: '15550000022' }], messages: [{ from: '15550000022', id: a, ts: 1750000000 }] }));
    const conversationId = await conversationOf(a);
    await send(body({ messages: [{ from: '15550000022', id: uid('wamid.n2'), ts: 1750000001, type: 'system',
      extra: { system: { type: 'user_changed_number', body: 'N changed from 15550000022 to 15550000023', wa_id: '15550000023' } } }] }));
    expect((await h.peer.request(GetConversationV1, { conversationId })).contact).toMatchObject({ waId: '15550000023', name: 'N' });
    const b = uid('wamid.n3');
    await send(body({ contacts: [{ profile: { name: 'N' }, wa_id: '15550000023' }], messages: [{ from: '15550000023', id: b, ts: 1750000002 }] }));
    expect(await conversationOf(b)).toBe(conversationId);
  });

  describe('statuses and the outbound lifecycle', () => {
    const queued = (sendId: string, to: string, conversationId: string | null = null) =>
      h.peer.publish(OutboundQueuedV1, {
        eventId: randomUUID(), occurredAt: new Date().toISOString(), sendId, phoneNumberId: PN, conversationId, to,
        kind: 'text', text: 'our reply', content: { type: 'text', text: { body: 'our reply' } }, senderId: 'agent-1', senderName: 'Agent',
      });
    const sent = (sendId: string, waMessageId: string) =>
      h.peer.publish(OutboundSentV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), sendId, phoneNumberId: PN, conversationId: null, waMessageId });
    const status = (wamid: string, s: string, ts: number, errors?: unknown[]) =>
      body({ statuses: [{ id: wamid, status: s, timestamp: String(ts), recipient_id: '15550000030', ...(errors ? { errors } : {}) }] });
    const bySend = async (sendId: string) => (await h.sql(`SELECT * FROM ingest.message WHERE send_id = $1`, [sendId]))[0];

    it('a CSAT rating and its comment in the same second as the customer’s first message: the comment is still the comment (stored order breaks the tie)', async () => {
      // six conversations: ordering the tie by anything but the stored order would get at least one wrong
      for (let i = 0; i < 6; i++) {
        const S = 1750000400 + i * 10;
        const waId = `1555000009${i}`;
        const first = uid('wamid.c1');
        await send(body({ messages: [{ from: waId, id: first, ts: S, text: 'where is my parcel?' }] }));
        const conversationId = await conversationOf(first);
        await h.peer.publish(ConversationResolvedV1, { eventId: randomUUID(), occurredAt: new Date(S * 1000 + 500).toISOString(), conversationId, resolvedBy: null });
        await waitFor(async () => (await h.peer.request(GetConversationV1, { conversationId })).status === 'resolved', { what: 'resolved' });
        const surveyId = randomUUID();
        const pick = { interactive: { type: 'list_reply', list_reply: { id: csatReplyId(surveyId, 4, 15), title: '4 – Good' } } };
        await send(body({ messages: [{ from: waId, id: uid('wamid.c2'), ts: S, type: 'interactive', extra: pick }] }));
        await send(body({ messages: [{ from: waId, id: uid('wamid.c3'), ts: S, text: 'quick, thanks' }] }));
        await h.outboxDrained();
        const answers = await waitFor(() => {
          const a = h.events(CsatAnsweredV1).filter((e) => e.surveyId === surveyId);
          return a.length >= 2 ? a : undefined;
        }, { what: 'rating and comment answered' });
        expect(answers.map((a) => [a.rating, a.comment])).toEqual([
          [4, null],
          [null, 'quick, thanks'],
        ]);
        expect((await h.peer.request(GetConversationV1, { conversationId })).status).toBe('resolved');
      }
    });

    it('the list shows the customer’s message as the last one when it is stamped in the same second as our reply (WhatsApp stamps whole seconds)', async () => {
      const a = uid('wamid.l1');
      await send(body({ messages: [{ from: '15550000031', id: a, ts: 1750000000 }] }));
      const conversationId = await conversationOf(a);
      // our reply goes out at 1750000100.700 s; the customer answers in that same second, stamped 1750000100
      const sendId = randomUUID();
      await h.peer.publish(OutboundQueuedV1, {
        eventId: randomUUID(), occurredAt: new Date(1750000100_700).toISOString(), sendId, phoneNumberId: PN, conversationId, to: '15550000031',
        kind: 'text', text: 'our reply', content: { type: 'text', text: { body: 'our reply' } }, senderId: 'agent-1', senderName: 'Agent',
      });
      await waitFor(async () => (await bySend(sendId)) !== undefined, { what: 'reply recorded' });
      await send(body({ messages: [{ from: '15550000031', id: uid('wamid.l2'), ts: 1750000100 }] }));
      const c = await h.peer.request(GetConversationV1, { conversationId });
      expect(c).toMatchObject({ messageCount: 3, lastMessageText: 'hello' });
      // a message from an earlier second never takes the place of a later one
      await send(body({ messages: [{ from: '15550000031', id: uid('wamid.l3'), ts: 1750000050, text: 'late delivery' }] }));
      expect((await h.peer.request(GetConversationV1, { conversationId })).lastMessageText).toBe('hello');
    });

    it('applies statuses that arrived before the message once notifications links the wamid; read stays read', async () => {
      const wamid = uid('wamid.out');
      await send(status(wamid, 'read', 1750000300));
      await send(status(wamid, 'delivered', 1750000200));
      expect(await h.sql(`SELECT status FROM ingest.message_status WHERE wa_message_id = $1 AND message_id IS NULL ORDER BY status`, [wamid])).toEqual([
        { status: 'delivered' },
        { status: 'read' },
      ]);
      const sendId = randomUUID();
      await sent(sendId, wamid); // sent before queued
      await queued(sendId, '15550000030');
      const m = await waitFor(async () => {
        const r = await bySend(sendId);
        return r?.status === 'read' ? r : undefined;
      }, { what: 'read applied' });
      expect(m).toMatchObject({ wa_message_id: wamid, direction: 'outbound', origin: 'inbox', text: 'our reply' });
      await send(status(wamid, 'delivered', 1750000250)); // late
      await send(status(wamid, 'sent', 1750000100));
      expect((await bySend(sendId)).status).toBe('read');
      await h.outboxDrained();
      await waitFor(() => h.events(MessageStatusChangedV1).some((e) => e.waMessageId === wamid && e.status === 'read'), { what: 'status event' });
      await new Promise((r) => setTimeout(r, 200));
      // each step once, none after the late delivered/sent
      expect(h.events(MessageStatusChangedV1).filter((e) => e.waMessageId === wamid).map((e) => e.status).sort()).toEqual(['delivered', 'read', 'sent']);
      // the outbound message does not move the 24 h window
      const c = await h.peer.request(GetConversationV1, { conversationId: m.conversation_id });
      expect(c.lastInboundAt).toBeNull();
    });

    it('records failed statuses and send failures on the message', async () => {
      const wamid = uid('wamid.fail');
      const sendId = randomUUID();
      await queued(sendId, '15550000031');
      await sent(sendId, wamid);
      await waitFor(async () => (await bySend(sendId))?.status === 'sent', { what: 'sent' });
      await send(status(wamid, 'failed', 1750000400, [{ code: 131026, title: 'Receiver is incapable of receiving this message', error_data: { details: 'Message Undeliverable.' } }]));
      const m = await bySend(sendId);
      const page = await h.peer.request(ListMessagesV1, { conversationId: m.conversation_id, limit: 10 });
      expect(page.items.find((x) => x.id === m.id)).toMatchObject({
        status: 'failed',
        errors: [expect.objectContaining({ code: 131026, details: 'Message Undeliverable.', source: 'status' })],
      });

      const other = randomUUID();
      await h.peer.publish(OutboundFailedV1, {
        eventId: randomUUID(), occurredAt: new Date().toISOString(), sendId: other, phoneNumberId: PN, conversationId: m.conversation_id,
        code: 131047, title: 'Re-engagement message', explanation: 'More than 24 hours since the customer last wrote',
      });
      await queued(other, '15550000031', m.conversation_id);
      const f = await waitFor(async () => {
        const r = await bySend(other);
        return r?.status === 'failed' ? r : undefined;
      }, { what: 'send failure recorded' });
      expect(f.conversation_id).toBe(m.conversation_id);
      expect(f.errors).toEqual([expect.objectContaining({ code: 131047, source: 'send', message: 'More than 24 hours since the customer last wrote' })]);
    });
  });

  describe('read requests', () => {
    it('pages conversations newest activity first with an opaque cursor', async () => {
      const pn = `PN-PAGE-${Date.now()}`;
      for (let i = 0; i < 5; i++) {
        await send(body({ pn, messages: [{ from: `1555001000${i}`, id: uid('wamid.page'), ts: 1760000000 + i * 10 }] }));
      }
      const first = await h.peer.request(ListConversationsV1, { limit: 2, phoneNumberId: pn });
      expect(first.items.map((c) => c.contact.waId)).toEqual(['15550010004', '15550010003']);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await h.peer.request(ListConversationsV1, { limit: 2, phoneNumberId: pn, cursor: first.nextCursor });
      expect(second.items.map((c) => c.contact.waId)).toEqual(['15550010002', '15550010001']);
      const third = await h.peer.request(ListConversationsV1, { limit: 2, phoneNumberId: pn, cursor: second.nextCursor });
      expect(third.items.map((c) => c.contact.waId)).toEqual(['15550010000']);
      expect(third.nextCursor).toBeNull();
      const byIds = await h.peer.request(ListConversationsV1, { limit: 10, ids: [first.items[0].id] });
      expect(byIds.items).toHaveLength(1);
      await expect(h.peer.request(ListConversationsV1, { limit: 2, cursor: 'garbage' })).rejects.toMatchObject({ code: 'VALIDATION' });
    });

    it('pages messages in WhatsApp timestamp order, then arrival', async () => {
      const ids = [uid('wamid.o'), uid('wamid.o'), uid('wamid.o')];
      // arrive out of order; two share a timestamp
      await send(body({ messages: [{ from: '15550000040', id: ids[2], ts: 1750000300 }] }));
      await send(body({ messages: [{ from: '15550000040', id: ids[0], ts: 1750000100 }] }));
      await send(body({ messages: [{ from: '15550000040', id: ids[1], ts: 1750000300 }] }));
      const conversationId = await conversationOf(ids[0]);
      const p1 = await h.peer.request(ListMessagesV1, { conversationId, limit: 2 });
      const p2 = await h.peer.request(ListMessagesV1, { conversationId, limit: 2, cursor: p1.nextCursor });
      expect([...p1.items, ...p2.items].map((m) => m.waMessageId)).toEqual([ids[0], ids[2], ids[1]]);
      expect(p2.nextCursor).toBeNull();
      // newest first, paging backwards (what a timeline opens on)
      const n1 = await h.peer.request(ListMessagesV1, { conversationId, limit: 2, order: 'newest' });
      const n2 = await h.peer.request(ListMessagesV1, { conversationId, limit: 2, order: 'newest', cursor: n1.nextCursor });
      expect([...n1.items, ...n2.items].map((m) => m.waMessageId)).toEqual([ids[1], ids[2], ids[0]]);
      expect(n2.nextCursor).toBeNull();
    });

    it('answers NOT_FOUND for an unknown conversation', async () => {
      const err = await h.peer.request(GetConversationV1, { conversationId: randomUUID() }).catch((e) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.code).toBe('NOT_FOUND');
      await expect(h.peer.request(ListMessagesV1, { conversationId: randomUUID(), limit: 5 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});

describe('ingest with WHATSAPP_AUTO_REGISTER_NUMBERS=false', () => {
  let h: IngestHarness;
  beforeAll(async () => {
    h = await IngestHarness.start({ WHATSAPP_AUTO_REGISTER_NUMBERS: 'false' });
  });
  afterAll(() => h?.stop());

  it('keeps and reports an unknown number without registering it, and still stores its messages', async () => {
    const raw = body({ pn: 'PN-UNKNOWN', messages: [{ from: '15550000050', id: 'wamid.unknown-number', ts: 1750000000 }] });
    const receiptId = await h.webhook(raw);
    await h.processed(receiptId, raw);
    expect(await h.sql(`SELECT phone_number_id, registered, auto_registered FROM ingest.business_number`)).toEqual([
      { phone_number_id: 'PN-UNKNOWN', registered: false, auto_registered: false },
    ]);
    expect(await register.getSingleMetricAsString('switchboard_ingest_unknown_numbers_total')).toMatch(/outcome="unregistered"} 1/);
    const [{ n }] = await h.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE phone_number_id = 'PN-UNKNOWN'`);
    expect(n).toBe(1);
  });
});
