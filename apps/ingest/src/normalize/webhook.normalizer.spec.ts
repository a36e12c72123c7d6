import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NormalizedAccountEvent, NormalizedItem, NormalizedMessage, NormalizedStatus } from './normalized.types';
import { normalizeWebhook, parseWaTimestamp, renderText } from './webhook.normalizer';

/** `../shared/whatsapp/fixtures` beside the repository: /work/shared here, <clone>/../shared in CI. */
const FIXTURES = path.resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'whatsapp', 'fixtures', 'webhooks');
const RECEIVED = new Date('2026-11-25T12:00:00.000Z');

function allFixtures(): Array<{ name: string; raw: string }> {
  const out: Array<{ name: string; raw: string }> = [];
  const walk = (dir: string) => {
    for (const f of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, f);
      if (fs.statSync(full).isDirectory()) walk(full);
      else if (f.endsWith('.json')) out.push({ name: path.relative(FIXTURES, full).replace(/\.json$/, ''), raw: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(FIXTURES);
  return out;
}

const fixtures = allFixtures();
const byName = new Map(fixtures.map((f) => [f.name, f.raw]));
const run = (name: string) => {
  const raw = byName.get(name);
  if (!raw) throw new Error(`fixture ${name} missing`);
  return normalizeWebhook(raw, RECEIVED);
};
const onlyMessage = (name: string): NormalizedMessage => {
  const r = run(name);
  expect(r.rejected).toEqual([]);
  expect(r.items).toHaveLength(1);
  expect(r.items[0].kind).toBe('message');
  return r.items[0] as NormalizedMessage;
};
const onlyStatus = (name: string): NormalizedStatus => {
  const r = run(name);
  expect(r.rejected).toEqual([]);
  expect(r.items).toHaveLength(1);
  return r.items[0] as NormalizedStatus;
};
const at = (sec: number) => new Date(sec * 1000);

describe('normalizeWebhook over every fixture', () => {
  it('finds the fixtures directory', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });

  it.each(fixtures.map((f) => [f.name, f.raw]))('%s: every item is accepted, none rejected', (_name, raw) => {
    const r = normalizeWebhook(raw, RECEIVED);
    expect(r.rejected).toEqual([]);
    expect(r.items.length).toBeGreaterThan(0);
    for (const item of r.items as NormalizedItem[]) {
      if (item.kind === 'message') {
        expect(item.waMessageId).toBeTruthy();
        expect(typeof item.text).toBe('string');
        expect(item.sentAt.getTime()).not.toBeNaN();
        expect(item.contact.waId ?? item.contact.userId).toBeTruthy();
      }
    }
  });
});

describe('normalizeWebhook, field by field', () => {
  const sheena = { waId: '16505551234', userId: null, parentUserId: null, name: 'Sheena Nelson', username: null };
  const number = { phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881', wabaId: expect.any(String) };

  it('text (real capture)', () => {
    const m = onlyMessage('messages/messages-text-real-capture');
    expect(m).toMatchObject({
      number: { phoneNumberId: '114896151713920', displayPhoneNumber: '15550984277' },
      contact: { waId: '60173526233', userId: null, name: 'Lee Jen Ling' },
      direction: 'inbound', origin: 'customer', type: 'text', text: 'Hihu', content: { body: 'Hihu' },
      waMessageId: 'wamid.HBgLNjAxNzM1MjYyMzMVAgASGBQzQUI0NkE4NjM1QTU2NjVGOURGQgA=',
      context: null, contextWaMessageId: null, errors: [], media: null, referral: null,
    });
    expect(m.sentAt).toEqual(at(1694427240));
  });

  it('text with BSUID, username and referred product context', () => {
    const b = onlyMessage('messages/messages-text-bsuid-username-v25');
    expect(b.contact).toEqual({ waId: '16315551181', userId: 'US.13491208655302741918', parentUserId: 'US.11815799212886844830', name: 'test user name', username: '@testusername' });
    expect(b.sentAt).toEqual(at(1504902988));
    const p = onlyMessage('messages/messages-text-referred-product-context');
    expect(p.text).toBe('Is this still available?');
    expect(p.contextWaMessageId).toBe('wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA');
    expect(p.context).toEqual({
      from: '15550783881', id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA', forwarded: false, frequentlyForwarded: false,
      referredProduct: { catalog_id: '194836987003835', product_retailer_id: 'di9ozbzfi4' },
    });
  });

  it.each([
    ['messages/messages-image', 'image', '[Image] Taj Mahal', '1003383421387256', 'image/jpeg', 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI='],
    ['messages/messages-video', 'video', '[Video] Timelapse of growth', '731675419373506', 'video/mp4', 'vdGU5X4caz12KwFgYwpljlUNqMt1YnkH+5GkPc3mMnc='],
    ['messages/messages-audio-voice', 'audio', '[Voice message]', '1908647269898587', 'audio/ogg; codecs=opus', 'wvqXMe6n7n1W0zphvLPoLj+s/NtKqmr3zZ7YzTP7xFI='],
    ['messages/messages-document', 'document', '[Document: receipt.pdf] my receipt', '622684793477189', 'application/pdf', 'V5OPpLD/gEG6Xjg0MbmQDLFgcKsL+j5LfY4ny/pZ4MY='],
    ['messages/messages-sticker', 'sticker', '[Sticker]', '1908647269898587', 'image/webp', 'wvqXMe6n7n1W0zphvLPoLj+s/NtKqmr3zZ7YzTP7xFI='],
  ])('%s: media type %s', (name, type, text, mediaId, mimeType, sha256) => {
    const m = onlyMessage(name);
    expect(m).toMatchObject({ number, contact: sheena, type, text, media: { mediaId, mimeType, sha256 } });
    expect(m.content).toMatchObject({ id: mediaId, mime_type: mimeType, sha256 });
    expect(m.sentAt).toEqual(at(1744344496));
  });

  it('audio keeps the voice flag, sticker the animated flag, document the filename', () => {
    expect(onlyMessage('messages/messages-audio-voice').content).toMatchObject({ voice: true });
    expect(onlyMessage('messages/messages-sticker').content).toMatchObject({ animated: true });
    expect(onlyMessage('messages/messages-document').content).toMatchObject({ filename: 'receipt.pdf', caption: 'my receipt' });
  });

  it('location (with and without a quoted location request)', () => {
    const l = onlyMessage('messages/messages-location');
    expect(l).toMatchObject({ type: 'location', text: '[Location: Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301]' });
    expect(l.content).toEqual({ address: '101 Forest Ave, Palo Alto, CA 94301', latitude: 37.44221496582, longitude: -122.16165924072, name: 'Philz Coffee', url: 'https://philzcoffee.com/' });
    const r = onlyMessage('messages/messages-location-reply-to-location-request');
    expect(r.contextWaMessageId).toBe('wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1QjJGRjI1RDY0RkE4Nzg4QzcA');
  });

  it('contacts', () => {
    const m = onlyMessage('messages/messages-contacts');
    expect(m).toMatchObject({ type: 'contacts', text: '[Contact: Barbara J. Johnson]' });
    expect(m.content).toEqual([expect.objectContaining({ phones: [{ phone: '+1 (415) 555-0829', wa_id: '14125550829', type: 'MOBILE' }] })]);
  });

  it('interactive button, list and flow (nfm) replies', () => {
    const b = onlyMessage('messages/messages-interactive-button-reply');
    expect(b).toMatchObject({ type: 'interactive', text: 'Change', content: { type: 'button_reply', button_reply: { id: 'change-button', title: 'Change' } } });
    expect(b.contextWaMessageId).toBe('wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA');
    const l = onlyMessage('messages/messages-interactive-list-reply');
    expect(l).toMatchObject({ text: 'Priority Mail Express', content: { list_reply: { id: 'priority_express', description: 'Next Day to 2 Days' } } });
    const f = onlyMessage('messages/messages-interactive-nfm-reply-flow-completion');
    expect(f).toMatchObject({ text: 'Sent', content: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent' } } });
    expect(JSON.parse((f.content as any).nfm_reply.response_json)).toMatchObject({ delivery_rating: '4' });
  });

  it('template quick-reply button', () => {
    const m = onlyMessage('messages/messages-button-template-quick-reply');
    expect(m).toMatchObject({ type: 'button', text: 'Unsubscribe', content: { payload: 'Unsubscribe', text: 'Unsubscribe' } });
    expect(m.contextWaMessageId).toBe('wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=');
  });

  it('reaction and its removal point at the target message', () => {
    const r = onlyMessage('messages/messages-reaction');
    expect(r).toMatchObject({ type: 'reaction', text: '[Reaction 😮]', contextWaMessageId: 'wamid.yzxyzx=', content: { emoji: '😮' } });
    expect(r.contact).toMatchObject({ waId: '972987654321', userId: 'US.13491208655302741918', parentUserId: 'US.ENT.11815799212886844830' });
    const removed = onlyMessage('messages/messages-reaction-removed-empty-emoji');
    expect(removed).toMatchObject({ type: 'reaction', text: '[Reaction removed]', content: { emoji: '' } });
    expect(onlyMessage('messages/messages-reaction-empty-emoji-meta-doc').text).toBe('[Reaction removed]');
  });

  it('order', () => {
    const m = onlyMessage('messages/messages-order');
    expect(m).toMatchObject({ type: 'order', text: '[Order: 2 items] Love these!', content: { catalog_id: '194836987003835' } });
    expect((m.content as any).product_items).toHaveLength(2);
  });

  it('system: user_changed_number carries the new number and has no contacts array', () => {
    const m = onlyMessage('messages/messages-system-user-changed-number');
    expect(m).toMatchObject({
      type: 'system', origin: 'system', direction: 'inbound',
      text: 'User Sheena Nelson changed from 16505551234 to 12195555358',
      contact: { waId: '16505551234', userId: null, name: null },
      system: { type: 'user_changed_number', newWaId: '12195555358', newUserId: null },
    });
  });

  it('unsupported keeps its errors and the original type', () => {
    const m = onlyMessage('messages/messages-unsupported');
    expect(m).toMatchObject({ type: 'unsupported', text: '[Unsupported message: edit]', content: { type: 'edit' } });
    expect(m.errors).toEqual([{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', details: 'Message type is currently not supported.', href: null }]);
  });

  it('edit and revoke link to the original message', () => {
    const e = onlyMessage('messages/messages-edit-image-caption');
    expect(e).toMatchObject({ type: 'edit', text: '[Edited] [Image] Updated image caption', contextWaMessageId: 'wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=' });
    const r = onlyMessage('messages/messages-revoke-deleted-by-user');
    expect(r).toMatchObject({ type: 'revoke', text: '[Message deleted]', contextWaMessageId: '<ORIGINAL_WHATSAPP_MESSAGE_ID>' });
  });

  it('an unknown future type is kept as unsupported with the original object', () => {
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'W', changes: [{ field: 'messages', value: { metadata: { phone_number_id: 'P' }, messages: [
        { from: '1', id: 'wamid.future', timestamp: 1700000000, type: 'poll_vote', poll_vote: { option: 2 } },
        { from: '1', id: 'wamid.notype', timestamp: '1700000001' },
      ] } }] }],
    });
    const r = normalizeWebhook(raw, RECEIVED);
    expect(r.rejected).toEqual([]);
    expect(r.items).toMatchObject([
      { type: 'unsupported', text: '[Unsupported message: poll_vote]', content: { type: 'poll_vote', poll_vote: { option: 2 } }, sentAt: at(1700000000) },
      { type: 'unsupported', text: '[Unsupported message]', sentAt: at(1700000001) },
    ]);
  });

  it('echo (smb_message_echoes) is an outbound message to the customer', () => {
    const m = onlyMessage('other/smb-message-echoes-text');
    expect(m).toMatchObject({
      direction: 'outbound', origin: 'echo', type: 'text', text: 'Test message', waMessageId: '<WHATSAPP_MESSAGE_ID>',
      contact: { waId: '<WHATSAPP_USER_PHONE_NUMBER>', userId: '<BSUID>', name: 'Test Name' },
      number: { phoneNumberId: '1122334455667' },
    });
  });

  it.each([
    ['statuses/statuses-sent-pmp-marketing-with-conversation', 'sent', 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=', 1750030073, []],
    ['statuses/statuses-delivered-bsuid-with-phone', 'delivered', 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=', 1750030073, []],
    ['statuses/statuses-read-no-pricing-bsuid-v25', 'read', 'ABGGFlA5Fpa', 1504902988, []],
    ['statuses/statuses-failed-131026-undeliverable-real', 'failed', 'wamid.HBgLMzI0NzY3NTUzNzYVAgARGBIzOTI2MzFGRjdBRjA4M0Y2RDQA', 1698231447, [131026]],
    ['statuses/statuses-failed-131049-ecosystem-engagement', 'failed', 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA', 1751142888, [131049]],
  ])('%s: %s', (name, status, id, ts, codes) => {
    const s = onlyStatus(name);
    expect(s).toMatchObject({ kind: 'status', status, waMessageId: id });
    expect(s.statusAt).toEqual(at(ts as number));
    expect(s.errors.map((e) => e.code)).toEqual(codes);
  });

  it('status recipients keep the BSUID', () => {
    expect(onlyStatus('statuses/statuses-read-no-pricing-bsuid-v25').recipient).toMatchObject({ waId: '16315551181', userId: 'US.13491208655302741918' });
    expect(onlyStatus('statuses/statuses-failed-131049-ecosystem-engagement').errors[0]).toMatchObject({
      title: 'This message was not delivered to maintain healthy ecosystem engagement.',
      details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
    });
  });

  it('value-level errors become an account event with the errors', () => {
    const r = run('messages/messages-value-level-errors-130429');
    expect(r.items).toHaveLength(1);
    const e = r.items[0] as NormalizedAccountEvent;
    expect(e).toMatchObject({ kind: 'account', field: 'errors', number: { phoneNumberId: '106540352242922' } });
    expect((e.value as any).errors[0]).toMatchObject({ code: 130429, title: 'Rate limit hit' });
  });

  it.each([
    ['other/account-update-account-violation', 'account_update'],
    ['other/message-template-status-update-rejected', 'message_template_status_update'],
    ['other/phone-number-quality-update-throughput-upgrade', 'phone_number_quality_update'],
    ['other/smb-app-state-sync-contacts', 'smb_app_state_sync'],
    ['other/user-preferences-marketing-stop', 'user_preferences'],
    ['other/calls-connect-user-initiated', 'calls'],
  ])('%s is an account event of field %s with the value whole', (name, field) => {
    const r = run(name);
    const e = r.items[0] as NormalizedAccountEvent;
    expect(e).toMatchObject({ kind: 'account', field });
    expect(e.value).toEqual(JSON.parse(byName.get(name)!).entry[0].changes[0].value);
    expect(run(name).items[0]).toMatchObject({ dedupeKey: e.dedupeKey }); // stable across deliveries
  });
});

describe('normalizeWebhook, bad input never throws', () => {
  it.each([
    ['not json', 'body is not JSON'],
    ['[1,2]', 'body is not a JSON object'],
    ['{"object":"page","entry":[]}', 'not whatsapp_business_account'],
    ['{"object":"whatsapp_business_account"}', 'entry is not an array'],
  ])('%s → rejected (%s)', (raw, reason) => {
    const r = normalizeWebhook(raw, RECEIVED);
    expect(r.items).toEqual([]);
    expect(r.rejected).toEqual([expect.objectContaining({ reason: expect.stringContaining(reason) })]);
  });

  it('rejects only the malformed items of a batch, with their JSON path', () => {
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'W', changes: [
        { field: 'messages', value: { metadata: { phone_number_id: 'P' }, messages: [
          { from: '1', id: 'wamid.ok', timestamp: '1700000000', type: 'text', text: { body: 'hi' } },
          { from: '1', timestamp: '1700000000', type: 'text', text: { body: 'no id' } },
          { id: 'wamid.nosender', timestamp: '1700000000', type: 'text', text: { body: 'x' } },
          { from: '1', id: 'wamid.img', type: 'image' },
        ], statuses: [{ status: 'read' }, { id: 'wamid.s', status: 'read', timestamp: 1700000000 }] } },
        'garbage',
        { field: 'messages', value: { messages: [{ from: '1', id: 'wamid.nonumber', type: 'text', text: { body: 'x' } }] } },
      ] }],
    });
    const r = normalizeWebhook(raw, RECEIVED);
    expect(r.items.map((i) => (i.kind === 'account' ? i.field : i.waMessageId))).toEqual(['wamid.ok', 'wamid.s']);
    expect(r.rejected.map((x) => [x.path, x.reason])).toEqual([
      ['entry[0].changes[0].value.messages[1]', 'message has no id'],
      ['entry[0].changes[0].value.messages[2]', 'message has no sender (from / from_user_id)'],
      ['entry[0].changes[0].value.messages[3]', 'image message has no image object'],
      ['entry[0].changes[0].value.statuses[0]', 'status has no id'],
      ['entry[0].changes[1]', 'change is not an object'],
      ['entry[0].changes[2].value.messages[0]', 'change has no value.metadata.phone_number_id'],
    ]);
  });

  it('accepts a contact with an empty wa_id and a user_id', () => {
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'W', changes: [{ field: 'messages', value: { metadata: { phone_number_id: 'P' },
        contacts: [{ profile: { name: 'Hidden' }, wa_id: '', user_id: 'BR.999' }],
        messages: [{ from: '', from_user_id: 'BR.999', id: 'wamid.h', timestamp: '1700000000', type: 'text', text: { body: 'x' } }] } }] }],
    });
    const r = normalizeWebhook(raw, RECEIVED);
    expect(r.items[0]).toMatchObject({ contact: { waId: null, userId: 'BR.999', name: 'Hidden' } });
  });
});

describe('timestamps and text rendering', () => {
  it('accepts seconds as string or number', () => {
    expect(parseWaTimestamp('1750030073')).toEqual(at(1750030073));
    expect(parseWaTimestamp(1750030073)).toEqual(at(1750030073));
    expect(parseWaTimestamp('TIMESTAMP')).toBeNull();
    expect(parseWaTimestamp(undefined)).toBeNull();
  });
  it('replaces U+0000 and unpaired surrogates, which PostgreSQL cannot store, with U+FFFD (found by the webhook fuzzer)', () => {
    const raw = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '1', phone_number_id: '9' },
      messages: [{ from: '1', id: 'wamid.nul', timestamp: '1700000000', type: 'text', text: { body: 'a\u0000b\ud800c\udc00d👋' }, ['k\u0000']: 1 }] } }] }] });
    const [m] = normalizeWebhook(raw, new Date()).items as NormalizedMessage[];
    expect(m.text).toBe('a\ufffdb\ufffdc\ufffdd👋');
    expect(JSON.stringify(m)).not.toMatch(/\\u0000|\\ud800|\\udc00/);
  });
  it('treats a number past the last representable date as absent (found by the webhook fuzzer)', () => {
    expect(parseWaTimestamp(1e300)).toBeNull();
    expect(parseWaTimestamp('9'.repeat(40))).toBeNull();
  });
  it('renders a location without a name from its coordinates', () => {
    expect(renderText('location', { latitude: 1.5, longitude: 2 })).toBe('[Location: 1.5, 2]');
  });
});
