import { randomUUID } from 'node:crypto';
import { register } from 'prom-client';
import {
  ConversationOpenedV1,
  ListMessagesV1,
  MessageReceivedV1,
  OutboundQueuedV1,
  OutboundSentV1,
  WhatsAppAccountEventV1,
  type MessageView,
} from '@app/contracts';
import { waitFor } from '@app/testing';
import { webhookFixtures } from '../../../test/support/fixtures';
import { normalizeWebhook } from '../src/normalize/webhook.normalizer';
import { mergeStatus } from '../src/statuses/status-rank';
import { IngestHarness, shuffle, withNumberSuffix } from './ingest-harness';

/**
 * Every shared fixture published as the gateway's relay would (WebhookReceivedV1 with the exact raw body), on real
 * PostgreSQL and JetStream. Fixtures copied from Meta's docs reuse the same ids, so each gets its own
 * phone_number_id suffix (a business number of its own, auto-registered).
 */
describe('ingest: webhook fixtures on real PostgreSQL and JetStream', () => {
  let h: IngestHarness;
  const fixtures = webhookFixtures();
  const receipts = new Map<string, { receiptId: string; raw: string }>();

  beforeAll(async () => {
    h = await IngestHarness.start({ INGEST_WEBHOOK_CONCURRENCY: '4' }, [MessageReceivedV1, ConversationOpenedV1, WhatsAppAccountEventV1]);
    for (const [i, f] of fixtures.entries()) {
      const raw = withNumberSuffix(f.raw, `-f${i}`);
      receipts.set(f.name, { receiptId: await h.webhook(raw), raw });
    }
    for (const { receiptId, raw } of receipts.values()) await h.processed(receiptId, raw);
  }, 60_000);
  afterAll(() => h?.stop());

  const messageOf = async (fixture: string, index = 0): Promise<MessageView> => {
    const { receiptId } = receipts.get(fixture)!;
    const [row] = await h.sql(`SELECT conversation_id, wa_message_id FROM ingest.message WHERE receipt_id = $1 ORDER BY seq LIMIT 1 OFFSET $2`, [receiptId, index]);
    expect(row).toBeDefined();
    const page = await h.peer.request(ListMessagesV1, { conversationId: row.conversation_id, limit: 100 });
    return page.items.find((m) => m.waMessageId === row.wa_message_id)!;
  };

  it('accepts every fixture: no rejected item', async () => {
    expect(await h.sql(`SELECT path, reason FROM ingest.rejected_item`)).toEqual([]);
  });

  it('stores exactly the messages, statuses and account events each fixture carries', async () => {
    for (const [name, { receiptId, raw }] of receipts) {
      const { items } = normalizeWebhook(raw, new Date());
      const [c] = await h.sql(
        `SELECT (SELECT count(*)::int FROM ingest.message WHERE receipt_id = $1) AS messages,
                (SELECT count(*)::int FROM ingest.message_status WHERE receipt_id = $1) AS statuses,
                (SELECT count(*)::int FROM ingest.account_event WHERE receipt_id = $1) AS events`,
        [receiptId],
      );
      expect({ name, ...c }).toEqual({
        name,
        messages: items.filter((i) => i.kind === 'message').length,
        statuses: items.filter((i) => i.kind === 'status').length,
        events: items.filter((i) => i.kind === 'account').length,
      });
    }
  });

  it('text: type, text, direction, contact and conversation', async () => {
    const m = await messageOf('messages/messages-text-real-capture');
    expect(m).toMatchObject({
      waMessageId: 'wamid.HBgLNjAxNzM1MjYyMzMVAgASGBQzQUI0NkE4NjM1QTU2NjVGOURGQgA=',
      direction: 'inbound', origin: 'customer', type: 'text', text: 'Hihu', content: { body: 'Hihu' },
      status: null, errors: [], forwarded: false, media: null, sentAt: new Date(1694427240_000).toISOString(),
    });
    const [conv] = await h.sql(
      `SELECT c.status, c.message_count, c.last_inbound_at, k.wa_id, k.profile_name FROM ingest.conversation c
       JOIN ingest.contact k ON k.id = c.contact_id WHERE c.id = $1`,
      [m.conversationId],
    );
    expect(conv).toMatchObject({ status: 'open', message_count: 1, wa_id: '60173526233', profile_name: 'Lee Jen Ling' });
    expect(new Date(conv.last_inbound_at).toISOString()).toBe(m.sentAt);
  });

  it.each([
    ['messages/messages-image', 'image', '[Image] Taj Mahal', '1003383421387256'],
    ['messages/messages-video', 'video', '[Video] Timelapse of growth', '731675419373506'],
    ['messages/messages-audio-voice', 'audio', '[Voice message]', '1908647269898587'],
    ['messages/messages-document', 'document', '[Document: receipt.pdf] my receipt', '622684793477189'],
    ['messages/messages-sticker', 'sticker', '[Sticker]', '1908647269898587'],
  ])('%s: media recorded, download disabled without a token', async (name, type, text, mediaId) => {
    const m = await messageOf(name);
    expect(m).toMatchObject({ type, text, media: { mediaId, state: 'disabled', url: null } });
  });

  it.each([
    ['messages/messages-location', 'location', '[Location: Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301]'],
    ['messages/messages-contacts', 'contacts', '[Contact: Barbara J. Johnson]'],
    ['messages/messages-interactive-button-reply', 'interactive', 'Change'],
    ['messages/messages-interactive-list-reply', 'interactive', 'Priority Mail Express'],
    ['messages/messages-interactive-nfm-reply-flow-completion', 'interactive', 'Sent'],
    ['messages/messages-button-template-quick-reply', 'button', 'Unsubscribe'],
    ['messages/messages-reaction', 'reaction', '[Reaction 😮]'],
    ['messages/messages-reaction-removed-empty-emoji', 'reaction', '[Reaction removed]'],
    ['messages/messages-order', 'order', '[Order: 2 items] Love these!'],
    ['messages/messages-edit-image-caption', 'edit', '[Edited] [Image] Updated image caption'],
    ['messages/messages-revoke-deleted-by-user', 'revoke', '[Message deleted]'],
  ])('%s → %s "%s"', async (name, type, text) => {
    expect(await messageOf(name)).toMatchObject({ type, text, direction: 'inbound', origin: 'customer' });
  });

  it('keeps the type-specific object whole and the reply context', async () => {
    const list = await messageOf('messages/messages-interactive-list-reply');
    expect(list.content).toEqual({ type: 'list_reply', list_reply: { id: 'priority_express', title: 'Priority Mail Express', description: 'Next Day to 2 Days' } });
    expect(list.contextWaMessageId).toBe('wamid.HBgLMTY0NjcwNDM1OTUVAgARGBIwMjg0RkMxOEMyMkNEQUFFRDgA');
    expect(list.contextMessageId).toBeNull(); // the quoted message is not known here
    const reaction = await messageOf('messages/messages-reaction');
    expect(reaction.contextWaMessageId).toBe('wamid.yzxyzx=');
  });

  it('unsupported: shown with its errors', async () => {
    const m = await messageOf('messages/messages-unsupported');
    expect(m).toMatchObject({ type: 'unsupported', text: '[Unsupported message: edit]', content: { type: 'edit' } });
    expect(m.errors).toEqual([expect.objectContaining({ code: 131051, details: 'Message type is currently not supported.', source: 'message' })]);
  });

  it('system user_changed_number: stored as a system message in the thread', async () => {
    const m = await messageOf('messages/messages-system-user-changed-number');
    expect(m).toMatchObject({ type: 'system', origin: 'system', text: 'User Sheena Nelson changed from 16505551234 to 12195555358' });
    // the contact update itself is checked in conversations.e2e-spec.ts: here contacts are shared across the
    // fixtures' numbers and the docs' examples reuse 16505551234 for different people, so the result depends on order
  });

  it('BSUID contact: one contact per user_id across numbers, whatever wa_id the payloads carry', async () => {
    const m = await messageOf('messages/messages-text-bsuid-username-v25');
    const [k] = await h.sql(
      `SELECT k.id, k.user_id, k.username FROM ingest.conversation c JOIN ingest.contact k ON k.id = c.contact_id WHERE c.id = $1`,
      [m.conversationId],
    );
    expect(k).toMatchObject({ user_id: 'US.13491208655302741918', username: '@testusername' });
    const [{ n }] = await h.sql(`SELECT count(*)::int AS n FROM ingest.contact WHERE user_id = 'US.13491208655302741918'`);
    expect(n).toBe(1);
    const [{ threads }] = await h.sql(`SELECT count(*)::int AS threads FROM ingest.conversation WHERE contact_id = $1`, [k.id]);
    expect(threads).toBeGreaterThanOrEqual(5); // the fixtures carrying this BSUID, one business number each
  });

  it('echo: an outbound message with origin echo that does not open the 24 h window', async () => {
    const m = await messageOf('other/smb-message-echoes-text');
    expect(m).toMatchObject({ direction: 'outbound', origin: 'echo', type: 'text', text: 'Test message', status: 'sent' });
    const [c] = await h.sql(`SELECT last_inbound_at FROM ingest.conversation WHERE id = $1`, [m.conversationId]);
    expect(c.last_inbound_at).toBeNull();
  });

  it('statuses for unknown messages are kept pending', async () => {
    const rows = await h.sql(`SELECT status, message_id FROM ingest.message_status WHERE receipt_id = $1`, [
      receipts.get('statuses/statuses-failed-131049-ecosystem-engagement')!.receiptId,
    ]);
    expect(rows).toEqual([{ status: 'failed', message_id: null }]);
  });

  it('records other fields and value-level errors and publishes them as account events', async () => {
    await h.outboxDrained();
    const fields = new Set(h.events(WhatsAppAccountEventV1).map((e) => e.field));
    for (const f of ['account_update', 'message_template_status_update', 'phone_number_quality_update', 'smb_app_state_sync', 'user_preferences', 'calls', 'errors']) {
      expect(fields).toContain(f);
    }
    const errors = h.events(WhatsAppAccountEventV1).find((e) => e.field === 'errors')!;
    expect(errors.value).toMatchObject({ errors: [{ code: 130429 }] });
  });

  it('publishes MessageReceivedV1 for customer messages and echoes, and ConversationOpenedV1 once per new thread', async () => {
    await h.outboxDrained();
    const items = [...receipts.values()].flatMap(({ raw }) => normalizeWebhook(raw, new Date()).items);
    const customer = items.filter((i) => i.kind === 'message' && i.origin === 'customer').length;
    const echoes = items.filter((i) => i.kind === 'message' && i.origin === 'echo').length;
    await waitFor(() => h.events(MessageReceivedV1).length >= customer + echoes, { what: 'message events' });
    const received = h.events(MessageReceivedV1);
    expect(received.find((e) => e.waMessageId === '<WHATSAPP_MESSAGE_ID>' && e.origin === 'echo')).toMatchObject({ direction: 'outbound' });
    expect(customer).toBeGreaterThanOrEqual(20);
    expect(received.filter((e) => e.origin === 'customer').length).toBe(customer); // system messages publish none
    expect(received.filter((e) => e.origin === 'echo').length).toBe(echoes);
    const [{ n }] = await h.sql(`SELECT count(*)::int AS n FROM ingest.conversation`);
    await waitFor(() => h.events(ConversationOpenedV1).length === n, { what: 'one opened event per conversation' });
    expect(h.events(ConversationOpenedV1).every((e) => e.reopened === false)).toBe(true);
  });

  it('registers every unknown business number (auto-register is on outside production)', async () => {
    const [r] = await h.sql(`SELECT count(*)::int AS n, bool_and(registered AND auto_registered) AS all_auto FROM ingest.business_number`);
    expect(r.all_auto).toBe(true);
    const numbers = new Set(
      [...receipts.values()].flatMap(({ raw }) => normalizeWebhook(raw, new Date()).items.map((i) => i.number?.phoneNumberId).filter(Boolean)),
    );
    expect(r.n).toBe(numbers.size); // account-level fields (template, quality, account updates) carry no phone number
    expect(await register.getSingleMetricAsString('switchboard_ingest_unknown_numbers_total')).toMatch(/outcome="auto_registered"/);
  });

  describe('each fixture delivered 3 times, shuffled, with statuses interleaved', () => {
    it('gives exactly one message each and the right final statuses', async () => {
      const messageFixtures = fixtures.filter((f) => !f.name.startsWith('statuses/'));
      const statusFixtures = fixtures.filter((f) => f.name.startsWith('statuses/'));
      // the outbound messages the statuses belong to, created by notifications' lifecycle events
      const targets = new Map<string, { pnid: string; wamid: string; statuses: string[] }>();
      for (const f of statusFixtures) {
        for (const item of normalizeWebhook(f.raw, new Date()).items) {
          if (item.kind !== 'status') continue;
          const key = `${item.number.phoneNumberId}|${item.waMessageId}`;
          const t = targets.get(key) ?? { pnid: item.number.phoneNumberId, wamid: item.waMessageId, statuses: [] };
          t.statuses.push(item.status);
          targets.set(key, t);
        }
      }
      type Step = () => Promise<unknown>;
      const steps: Step[] = [];
      for (let copy = 0; copy < 3; copy++) {
        // Meta's retries arrive as new receipts (new ids) with the same bytes
        for (const [i, f] of messageFixtures.entries()) steps.push(() => h.webhook(withNumberSuffix(f.raw, `-dup${i}`)));
        for (const f of statusFixtures) steps.push(() => h.webhook(f.raw));
      }
      const sends = [...targets.values()].map((t) => ({ ...t, sendId: randomUUID() }));
      for (const s of sends) {
        const ref = { sendId: s.sendId, phoneNumberId: s.pnid, conversationId: null };
        steps.push(() => h.peer.publish(OutboundQueuedV1, {
          eventId: randomUUID(), occurredAt: new Date().toISOString(), ...ref, to: '15550001111', kind: 'text', text: 'hello',
          content: { type: 'text', text: { body: 'hello' } }, senderId: null, senderName: null,
        }));
        steps.push(() => h.peer.publish(OutboundSentV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), ...ref, waMessageId: s.wamid }));
      }
      for (const step of shuffle(steps, 20261125)) await step();

      const expected = (t: { statuses: string[] }) => t.statuses.reduce<string>((cur, s) => mergeStatus(cur, s) ?? cur, 'sent');
      await waitFor(
        async () => {
          for (const s of sends) {
            const [m] = await h.sql(`SELECT status FROM ingest.message WHERE send_id = $1`, [s.sendId]);
            if (m?.status !== expected(s)) return false;
          }
          return true;
        },
        { what: 'final statuses', timeoutMs: 30_000 },
      );
      // spelled out for the fixtures that matter most
      const statusOf = async (pnid: string, wamid: string) =>
        (await h.sql(`SELECT status, errors FROM ingest.message WHERE phone_number_id = $1 AND wa_message_id = $2`, [pnid, wamid]))[0];
      expect((await statusOf('123456123', 'ABGGFlA5Fpa')).status).toBe('read'); // sent, delivered, read in any order
      expect((await statusOf('106540352242922', 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=')).status).toBe('delivered');
      const failed = await statusOf('106540352242922', 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA');
      expect(failed.status).toBe('failed');
      expect(failed.errors).toEqual([expect.objectContaining({ code: 131049, source: 'status' })]);
      // every status row stored once, whatever the number of deliveries
      const [{ dupes }] = await h.sql(
        `SELECT count(*)::int AS dupes FROM (SELECT 1 FROM ingest.message_status GROUP BY phone_number_id, wa_message_id, status, status_at HAVING count(*) > 1) d`,
      );
      expect(dupes).toBe(0);

      // exactly one message per (number, wamid) of the message fixtures
      await waitFor(
        async () => {
          const [r] = await h.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE phone_number_id LIKE '%-dup%'`);
          return r.n === messageFixtures.flatMap((f) => normalizeWebhook(f.raw, new Date()).items.filter((i) => i.kind === 'message')).length;
        },
        { what: 'one message per wamid', timeoutMs: 30_000 },
      );
      await new Promise((r) => setTimeout(r, 500)); // late duplicates would show up now
      const perWamid = await h.sql(
        `SELECT wa_message_id, count(*)::int AS n FROM ingest.message WHERE phone_number_id LIKE '%-dup%' GROUP BY 1, phone_number_id HAVING count(*) > 1`,
      );
      expect(perWamid).toEqual([]);
      expect(await h.sql(`SELECT path, reason FROM ingest.rejected_item`)).toEqual([]);
    }, 60_000);
  });
});
