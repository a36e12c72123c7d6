import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { conversation, MANAGER, ME, renderWithApp, stubFetch } from '../test-utils';
import { Composer, mentionIds } from './Composer';

const noop = () => undefined;

describe('composer', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('a double click (and Enter on top) sends once, with one Idempotency-Key', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls = stubFetch(async (url) => {
      if (url.endsWith('/messages')) await gate;
      return { status: 202, body: { sendId: 's1', status: 'queued', waMessageId: null, duplicate: false, claimed: false, version: 3 } };
    });
    const refreshed: number[] = [];
    renderWithApp(<Composer conv={conversation()} onRefresh={() => refreshed.push(1)} onClaim={noop} onTakeover={noop} busy={false} />);
    const box = screen.getByLabelText('Reply to the customer');
    fireEvent.change(box, { target: { value: 'On its way!' } });
    const send = screen.getByRole('button', { name: 'Send' });
    fireEvent.click(send);
    fireEvent.click(send);
    fireEvent.keyDown(box, { key: 'Enter' });
    await act(async () => release());
    await waitFor(() => expect(refreshed.length).toBe(1));
    const sends = calls.filter((c) => c.url.endsWith('/messages'));
    expect(sends).toHaveLength(1);
    expect(JSON.parse(String(sends[0].init.body))).toEqual({ text: 'On its way!', version: 3 });
    const key = (sends[0].init.headers as Record<string, string>)['Idempotency-Key'];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect((box as HTMLTextAreaElement).value).toBe('');
  });

  it('a retry after a network failure reuses the key, so the server can dedupe it', async () => {
    let fail = true;
    const calls = stubFetch((url) => {
      if (fail && url.endsWith('/messages')) throw new TypeError('Failed to fetch');
      return { status: 202, body: { sendId: 's1', status: 'queued', waMessageId: null, duplicate: true, claimed: false, version: 3 } };
    });
    renderWithApp(<Composer conv={conversation()} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    fireEvent.change(screen.getByLabelText('Reply to the customer'), { target: { value: 'Hello' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await screen.findByText(/it will not be sent twice/);
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    const sends = () => calls.filter((c) => c.url.endsWith('/messages'));
    await waitFor(() => expect(sends()).toHaveLength(2));
    const keys = sends().map((c) => (c.init.headers as Record<string, string>)['Idempotency-Key']);
    expect(keys[0]).toBe(keys[1]);
  });

  it('a 409 is explained, the view refreshed, the text kept', async () => {
    stubFetch(() => ({ status: 409, body: { statusCode: 409, message: 'conversation is owned by Ben <ben@x.test>' } }));
    const refreshed: number[] = [];
    renderWithApp(<Composer conv={conversation()} onRefresh={() => refreshed.push(1)} onClaim={noop} onTakeover={noop} busy={false} />);
    fireEvent.change(screen.getByLabelText('Reply to the customer'), { target: { value: 'Hi' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('owned by Ben');
    expect(alert.textContent).toContain('changed meanwhile');
    expect(refreshed).toHaveLength(1);
    expect((screen.getByLabelText('Reply to the customer') as HTMLTextAreaElement).value).toBe('Hi');
  });

  it('someone else’s conversation: no reply box, the owner named; unowned offers Claim; a manager gets Take over', () => {
    const other = conversation({ owner: { id: 'u-ben', name: 'Ben' } });
    const { unmount } = renderWithApp(<Composer conv={other} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    expect(screen.queryByLabelText('Reply to the customer')).toBeNull();
    expect(screen.getByText(/Ben owns this conversation/)).toBeTruthy();
    unmount();
    const claims: number[] = [];
    const r2 = renderWithApp(<Composer conv={conversation({ owner: null })} onRefresh={noop} onClaim={() => claims.push(1)} onTakeover={noop} busy={false} />);
    fireEvent.click(screen.getByRole('button', { name: 'Claim' }));
    expect(claims).toEqual([1]);
    r2.unmount();
    renderWithApp(<Composer conv={other} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />, { me: MANAGER });
    expect(screen.getByRole('button', { name: 'Take over' })).toBeTruthy();
  });

  it('typing announces presence; the window closed blocks free text', () => {
    stubFetch(() => ({ status: 200, body: {} }));
    const { presence } = renderWithApp(<Composer conv={conversation()} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />, { me: ME });
    fireEvent.change(screen.getByLabelText('Reply to the customer'), { target: { value: 'H' } });
    expect(presence).toContainEqual([conversation().id, 'typing']);
  });

  it('the 24-hour window closed: free text is disabled and explained, the template picker offered', async () => {
    stubFetch(() => ({ status: 200, body: { items: [] } }));
    renderWithApp(<Composer conv={conversation({ window: { open: false, endsAt: null } })} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    expect(screen.getByText(/24-hour window is closed/)).toBeTruthy();
    expect((screen.getByLabelText('Reply to the customer') as HTMLTextAreaElement).disabled).toBe(true);
    expect(await screen.findByText(/No approved template/)).toBeTruthy();
  });

  it('notes carry the mentioned users', () => {
    expect(mentionIds('ping @Ben Smith and @Ana', [{ id: '1', name: 'Ben Smith' }, { id: '2', name: 'Ana' }, { id: '3', name: 'Zed' }])).toEqual(['1', '2']);
  });
});
