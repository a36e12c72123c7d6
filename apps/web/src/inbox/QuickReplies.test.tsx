import { fireEvent, screen, waitFor } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { conversation, renderWithApp, stubFetch } from '../test-utils';
import { Composer } from './Composer';
import { shortcutQuery } from './QuickReplies';

const noop = () => undefined;
const REFUND = { id: 'c-1', shortcut: 'refund', title: 'Refund started', text: 'Hello {{contact.name}}, order {{contact.attributes.orderId}}', teamId: 't-1', ownerId: null };

describe('quick replies from the canned-responses API', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('"/ref" searches by shortcut, picking one renders it for this conversation and lists missing values; nothing is sent', async () => {
    const calls = stubFetch((url) => {
      if (url.includes('/api/v1/canned-responses?')) return { status: 200, body: { items: url.includes('q=ref') ? [REFUND] : [] } };
      if (url.endsWith('/canned-responses/c-1/render')) return { status: 200, body: { text: 'Hello Ana, order ', missing: ['contact.attributes.orderId'] } };
      return { status: 500, body: {} };
    });
    const conv = conversation();
    renderWithApp(<Composer conv={conv} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    const box = screen.getByLabelText('Reply to the customer') as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: '/ref' } });
    fireEvent.keyDown(box, { key: 'Enter' }); // a search, not a message
    const item = await screen.findByRole('menuitem', { name: /\/refund/ });
    expect((screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(item);
    await waitFor(() => expect(box.value).toBe('Hello Ana, order '));
    expect(screen.getByText(/No value for \{\{contact.attributes.orderId\}\}/)).toBeTruthy();
    const render = calls.find((c) => c.url.endsWith('/render'))!;
    expect(JSON.parse(String(render.init.body))).toEqual({ conversationId: conv.id });
    expect(calls.some((c) => c.url.endsWith('/messages'))).toBe(false);
    expect(screen.queryByRole('menu', { name: 'Quick replies' })).toBeNull();
  });

  it('the Quick replies button lists all; no match says so', async () => {
    stubFetch((url) => ({ status: 200, body: { items: url.endsWith('q=') ? [REFUND] : [] } }));
    renderWithApp(<Composer conv={conversation()} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    fireEvent.click(screen.getByRole('button', { name: 'Quick replies' }));
    expect(await screen.findByRole('menuitem', { name: /Refund started/ })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Reply to the customer'), { target: { value: '/zzz' } });
    expect(await screen.findByText(/No quick reply matches/)).toBeTruthy();
  });

  it('shortcutQuery only treats a lone /word as a search', () => {
    expect(shortcutQuery('/ref')).toBe('ref');
    expect(shortcutQuery('/')).toBe('');
    expect(shortcutQuery('see /ref')).toBeNull();
    expect(shortcutQuery('/ref now')).toBeNull();
  });
});
