import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { conversation, renderWithApp, stubFetch } from '../test-utils';
import { Composer } from './Composer';
import { parameterCount, preview } from './TemplatePicker';

const noop = () => undefined;
const TEMPLATES = [
  { name: 'hello_world', language: 'en_US', category: 'UTILITY', body: 'Welcome!', bodyParameterCount: 0 },
  { name: 'order_update', language: 'en_US', category: 'UTILITY', body: 'Hi {{1}}, your order {{2}} is now {{3}}.', bodyParameterCount: 3 },
];

describe('template picker', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('window closed: the picker is shown, asks one input per parameter, previews, and sends once with the key', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls = stubFetch(async (url) => {
      if (url.endsWith('/templates')) return { status: 200, body: { items: TEMPLATES } };
      if (url.endsWith('/messages')) await gate;
      return { status: 202, body: { sendId: 's1', status: 'queued', waMessageId: null, duplicate: false, claimed: false, version: 3 } };
    });
    const conv = conversation({ window: { open: false, endsAt: null } });
    const refreshed: number[] = [];
    renderWithApp(<Composer conv={conv} onRefresh={() => refreshed.push(1)} onClaim={noop} onTakeover={noop} busy={false} />);
    fireEvent.change(await screen.findByLabelText('Template'), { target: { value: 'order_update|en_US' } });
    const send = screen.getByRole('button', { name: 'Send template' }) as HTMLButtonElement;
    expect(send.disabled).toBe(true); // parameters missing
    fireEvent.change(screen.getByLabelText('Parameter 1'), { target: { value: 'Ana' } });
    fireEvent.change(screen.getByLabelText('Parameter 2'), { target: { value: 'A-1042' } });
    expect(screen.getByText('Hi Ana, your order A-1042 is now {{3}}.')).toBeTruthy();
    expect(send.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Parameter 3'), { target: { value: ' shipped ' } });
    fireEvent.click(send);
    fireEvent.click(send);
    await act(async () => release());
    await waitFor(() => expect(refreshed).toHaveLength(1));
    const sends = calls.filter((c) => c.url.endsWith('/messages'));
    expect(sends).toHaveLength(1);
    expect(JSON.parse(String(sends[0].init.body))).toEqual({ template: { name: 'order_update', language: 'en_US', bodyParameters: ['Ana', 'A-1042', 'shipped'] }, version: 3 });
    expect((sends[0].init.headers as Record<string, string>)['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('window open: available from the Templates button; a 400 from WhatsApp’s rules is shown', async () => {
    stubFetch((url) => {
      if (url.endsWith('/templates')) return { status: 200, body: { items: TEMPLATES } };
      return { status: 400, body: { statusCode: 400, message: 'message.name: template hello_world (en_US) is PAUSED, not APPROVED' } };
    });
    renderWithApp(<Composer conv={conversation()} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    expect(screen.queryByLabelText('Template')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Templates' }));
    fireEvent.change(await screen.findByLabelText('Template'), { target: { value: 'hello_world|en_US' } });
    expect(screen.queryByLabelText('Parameter 1')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Send template' }));
    expect((await screen.findByRole('alert')).textContent).toContain('not APPROVED');
  });

  it('someone else’s conversation: no picker even when the window is closed', () => {
    stubFetch(() => ({ status: 200, body: { items: TEMPLATES } }));
    renderWithApp(<Composer conv={conversation({ owner: { id: 'u-ben', name: 'Ben' }, window: { open: false, endsAt: null } })} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    expect(screen.queryByRole('region', { name: 'Send a template' })).toBeNull();
  });

  it('parameter count and preview', () => {
    expect(parameterCount({ ...TEMPLATES[1], bodyParameterCount: null })).toBe(3);
    expect(preview('{{1}} and {{1}} then {{2}}', ['a', ''])).toBe('a and a then {{2}}');
  });
});
