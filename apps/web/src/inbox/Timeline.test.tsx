import { screen } from '@testing-library/react';
import type { AuditEntry, MessageView, TimelineItem } from '../lib/types';
import { renderWithApp, stubFetch } from '../test-utils';
import { describeEvent, TimelineList } from './Timeline';

let n = 0;
function msg(over: Partial<MessageView>): MessageView {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    conversationId: 'c',
    waMessageId: `wamid.${n}`,
    direction: 'inbound',
    origin: 'customer',
    type: 'text',
    text: '',
    content: {},
    status: null,
    errors: [],
    contextWaMessageId: null,
    contextMessageId: null,
    forwarded: false,
    media: null,
    sentAt: new Date(Date.UTC(2026, 0, 1, 10, n)).toISOString(),
    createdAt: new Date().toISOString(),
    statusUpdatedAt: null,
    ...over,
  };
}
const item = (m: MessageView): TimelineItem => ({ kind: 'message', at: m.sentAt, message: m });
const dir = { users: new Map(), teams: new Map(), labels: [] };

describe('timeline', () => {
  beforeEach(() => stubFetch(() => ({ status: 404, body: { message: 'no media in unit tests' } })));

  it('renders every message type, with ticks and failures explained', () => {
    const first = msg({ text: 'Where is my order?', content: { body: 'Where is my order?' } });
    const items = [
      item(first),
      item(msg({ type: 'location', content: { latitude: 52.52, longitude: 13.405, name: 'Shop', address: 'Main St 1' } })),
      item(msg({ type: 'contacts', content: [{ name: { formatted_name: 'Bob Smith' }, phones: [{ phone: '+1 555 0100' }] }] })),
      item(msg({ type: 'interactive', text: 'Change', content: { type: 'button_reply', button_reply: { id: 'x', title: 'Change it' } } })),
      item(msg({ type: 'reaction', text: '[Reaction 👍]', content: { emoji: '👍' }, contextWaMessageId: first.waMessageId })),
      item(msg({ type: 'text', text: 'Tomorrow', content: { body: 'Tomorrow' }, direction: 'outbound', origin: 'inbox', status: 'read', contextWaMessageId: first.waMessageId })),
      item(msg({ type: 'text', text: 'late', content: { body: 'late' }, direction: 'outbound', origin: 'inbox', status: 'failed', errors: [{ code: 131047, title: 'Re-engagement message', details: 'More than 24 hours have passed' }] })),
      item(msg({ type: 'document', content: { filename: 'invoice.pdf' }, media: null })),
      item(msg({ type: 'unsupported', text: '[Unsupported message: poll_vote]' })),
    ];
    renderWithApp(<TimelineList items={items} dir={dir} />);
    expect(screen.getByText('Where is my order?')).toBeTruthy();
    expect(screen.getByText('Shop')).toBeTruthy();
    expect(screen.getByText('Bob Smith')).toBeTruthy();
    expect(screen.getByText(/Change it/)).toBeTruthy();
    expect(screen.getByText('Reacted 👍')).toBeTruthy();
    expect(screen.getByText('Customer: Where is my order?')).toBeTruthy(); // the quoted context of the reply
    expect(screen.getByLabelText('Read')).toBeTruthy();
    expect(screen.getByText(/Not delivered: More than 24 hours have passed \(code 131047\)/)).toBeTruthy();
    expect(screen.getByText(/invoice.pdf/)).toBeTruthy();
    expect(screen.getByText('[Unsupported message: poll_vote]')).toBeTruthy();
  });

  it('an attachment the agent sent shows its file and caption (the outbound content is the Graph body)', async () => {
    stubFetch((url) => (url.includes('/api/v1/media/') ? { status: 200, body: 'png bytes' } : { status: 404 }));
    globalThis.URL.createObjectURL ??= () => 'blob:test';
    const media = { mediaId: 'upload:x', mimeType: 'image/png', size: 9, sha256: null, state: 'stored', url: '/api/v1/media/x' };
    const sent = msg({ type: 'image', direction: 'outbound', origin: 'inbox', status: 'sent', text: 'Your parcel', content: { type: 'image', image: { upload_id: 'u', caption: 'Your parcel' } }, media });
    const doc = msg({ type: 'document', direction: 'outbound', origin: 'inbox', status: 'sent', text: '[document]', content: { type: 'document', document: { upload_id: 'v', filename: 'invoice 42.pdf' } }, media: { ...media, mimeType: 'application/pdf' } });
    renderWithApp(<TimelineList items={[item(sent), item(doc)]} dir={dir} />);
    expect(await screen.findByRole('img', { name: 'Your parcel' })).toBeTruthy();
    expect(screen.getByText('Your parcel', { selector: 'p' })).toBeTruthy();
    expect(screen.getByRole('button', { name: /invoice 42\.pdf/ })).toBeTruthy();
  });

  it('stored markup in messages, notes and names is shown as text, never run', () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const items: TimelineItem[] = [
      item(msg({ text: evil, content: { body: evil } })),
      { kind: 'note', at: new Date().toISOString(), note: { id: 'n1', conversationId: 'c', author: { type: 'user', id: 'u', name: evil }, body: evil, mentions: [], createdAt: new Date().toISOString() } },
    ];
    const { container } = renderWithApp(<TimelineList items={items} dir={dir} />);
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getAllByText(evil).length).toBe(2);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('internal notes are visually distinct, and handoffs show their note inline', () => {
    const ev: AuditEntry = {
      id: 'e1', seq: '1', conversationId: 'c', teamId: null, actor: { type: 'user', id: 'u-ana', name: 'Ana' }, action: 'conversation.handoff',
      before: { ownerId: 'u-ana' }, after: { ownerId: 'u-ben' }, note: 'Needs a refund', createdAt: new Date().toISOString(),
    };
    const d = { ...dir, users: new Map([['u-ben', { id: 'u-ben', name: 'Ben' } as never]]) };
    const items: TimelineItem[] = [
      { kind: 'note', at: ev.createdAt, note: { id: 'n', conversationId: 'c', author: { type: 'user', id: 'u', name: 'Ana' }, body: 'VIP customer', mentions: [], createdAt: ev.createdAt } },
      { kind: 'event', at: ev.createdAt, event: ev },
    ];
    renderWithApp(<TimelineList items={items} dir={d} />);
    expect(screen.getByRole('note', { name: 'Internal note' }).textContent).toContain('VIP customer');
    expect(screen.getByText('Ana handed off to Ben')).toBeTruthy();
    expect(screen.getByText('Needs a refund')).toBeTruthy();
    // the same note stored as a note is shown once, marked as the handoff's
    const twice: TimelineItem[] = [...items, { kind: 'note', at: ev.createdAt, note: { id: 'n2', conversationId: 'c', author: { type: 'user', id: 'u-ana', name: 'Ana' }, body: 'Needs a refund', mentions: [], createdAt: ev.createdAt } }];
    const { container } = renderWithApp(<TimelineList items={twice} dir={d} />);
    expect(container.querySelectorAll('.handoff-note')).toHaveLength(0);
    expect(container.textContent).toContain('↪ Handoff note · Ana');
  });

  it('describes events in words', () => {
    const e = (action: string, before: object | null, after: object | null, actorId = 'u-mara'): AuditEntry => ({
      id: 'x', seq: '1', conversationId: 'c', teamId: null, actor: { type: 'user', id: actorId, name: 'Mara' }, action, before: before as never, after: after as never, note: null, createdAt: '',
    });
    const d = { users: new Map([['u-ana', { name: 'Ana' } as never]]), teams: new Map([['t1', { name: 'Support' } as never]]), labels: [] };
    expect(describeEvent(e('conversation.claimed', { ownerId: null }, { ownerId: 'u-mara' }), d)).toBe('Mara claimed the conversation');
    expect(describeEvent(e('conversation.takeover', { ownerId: 'u-ana' }, { ownerId: 'u-mara' }), d)).toBe('Mara took over from Ana');
    expect(describeEvent(e('conversation.assigned', { ownerId: null, teamId: null }, { ownerId: 'u-ana', teamId: 't1' }), d)).toBe('Mara assigned it to Ana, moved it to Support');
    expect(describeEvent(e('conversation.status', { status: 'open' }, { status: 'resolved' }), d)).toBe('Mara set the status to resolved');
    expect(describeEvent(e('conversation.labels', { labels: [] }, { labels: ['VIP'] }), d)).toBe('Mara added label VIP');
    expect(describeEvent(e('sla.warning', null, { target: 'firstResponse' }), d)).toBe('First response SLA at risk');
    expect(describeEvent(e('sla.breach', null, { target: 'resolution' }), d)).toBe('Resolution SLA breached');
    // automation's messages: the rule (system actor named after it) or the macro the agent ran
    const byRule = { ...e('automation.message.sent', null, { rule: { id: 'r1', name: 'Refunds' }, type: 'sendCanned', cannedResponseId: 'c1', sendId: 's1' }), actor: { type: 'system', id: 'automation:r1', name: 'Automation: Refunds' } };
    expect(describeEvent(byRule, d)).toBe('Automation: Refunds sent a canned reply to the customer');
    expect(describeEvent(e('automation.message.sent', null, { macro: { id: 'm1', name: 'Refund done' }, type: 'sendCanned', sendId: 's2' }), d)).toBe('Mara sent a canned reply with the macro “Refund done”');
    expect(describeEvent(e('automation.message.sent', null, { rule: { id: 'r2', name: 'x' }, type: 'template', template: { name: 'order_update', language: 'en' } }), d)).toBe('Mara sent template order_update to the customer');
  });
});
