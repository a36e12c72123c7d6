import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { renderWithApp, stubFetch } from '../test-utils';
import { WhatsAppAccounts } from './WhatsApp';

const APP = { id: 'a1111111-1111-4111-8111-111111111111', name: 'Main app', metaAppId: '123456', status: 'active', appSecret: { set: true, last4: '1234' }, verifyToken: { set: false, last4: null }, accessToken: { set: true, last4: 'wxyz' }, createdAt: '', updatedAt: '' };
const WABA = { wabaId: '100000000000001', name: 'Acme', appId: APP.id, status: 'active' };
const NUMBER = { phoneNumberId: '106540352242922', wabaId: WABA.wabaId, displayNumber: '+1 555 078 3881', defaultTeamId: null, graphApiVersion: 'v23.0', status: 'active', lastTest: null };
const key = (id: string, name: string, scopes: string[], revokedAt: string | null = null) => ({ id, name, prefix: 'sbk_x', scopes, createdAt: '', lastUsedAt: null, revokedAt });
const KEYS = [
  key('b1111111-1111-4111-8111-111111111111', 'Triage bot', ['bot', 'conversations:read', 'messages:send']),
  key('b2222222-2222-4222-8222-222222222222', 'CRM sync', ['conversations:read']),
  key('b3333333-3333-4333-8333-333333333333', 'Old bot', ['bot'], '2026-01-01T00:00:00Z'),
];

function registry(over: (url: string, init: RequestInit) => { status: number; body?: unknown } | undefined = () => undefined) {
  return stubFetch((url, init) => {
    const r = over(url, init);
    if (r) return r;
    if (url.endsWith('/api/v1/meta-apps')) return { status: 200, body: { items: [APP] } };
    if (url.endsWith('/api/v1/whatsapp-accounts')) return { status: 200, body: { items: [WABA] } };
    if (url.endsWith('/api/v1/numbers')) return { status: 200, body: { items: [NUMBER] } };
    if (url.endsWith('/api/v1/api-keys')) return { status: 200, body: { items: KEYS } };
    if (url.endsWith(`/api/v1/numbers/${NUMBER.phoneNumberId}/bot`)) return { status: 200, body: { phoneNumberId: NUMBER.phoneNumberId, bot: null } };
    return { status: 404, body: { message: `unexpected ${url}` } };
  });
}
const body = (c: { init: RequestInit }) => JSON.parse(String(c.init.body));

describe('admin: WhatsApp accounts', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('shows secrets only as "set ••••last4" and sends only the secrets typed', async () => {
    const calls = registry((url, init) => (init.method === 'PATCH' ? { status: 200, body: APP } : undefined));
    renderWithApp(<WhatsAppAccounts />);
    const row = (await screen.findByText('Main app', { selector: 'td' })).closest('tr')!;
    expect(within(row).getByText('set ••••1234')).toBeTruthy();
    expect(within(row).getByText('not set')).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'Edit' }));
    fireEvent.change(screen.getByLabelText('Verify token'), { target: { value: 'verify-me-please' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save app' }));
    await waitFor(() => expect(calls.some((c) => c.init.method === 'PATCH')).toBe(true));
    const patch = calls.find((c) => c.init.method === 'PATCH')!;
    expect(patch.url).toMatch(new RegExp(`/api/v1/meta-apps/${APP.id}$`));
    expect(body(patch)).toEqual({ name: 'Main app', metaAppId: '123456', verifyToken: 'verify-me-please' });
  });

  it('adds a number with the right body and shows the API refusal in words', async () => {
    const calls = registry((url, init) => (url.endsWith('/api/v1/numbers') && init.method === 'POST' ? { status: 409, body: { message: 'phone number 106540352242923 is already registered' } } : undefined));
    renderWithApp(<WhatsAppAccounts />);
    await screen.findByText('+1 555 078 3881');
    fireEvent.change(screen.getByLabelText('Phone number id'), { target: { value: '106540352242923' } });
    fireEvent.change(screen.getByLabelText('Account'), { target: { value: WABA.wabaId } });
    fireEvent.change(screen.getByLabelText('Display number'), { target: { value: '+1 555 000 0000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add number' }));
    expect((await screen.findByRole('alert')).textContent).toBe('phone number 106540352242923 is already registered');
    const post = calls.find((c) => c.url.endsWith('/api/v1/numbers') && c.init.method === 'POST')!;
    expect(body(post)).toEqual({ phoneNumberId: '106540352242923', wabaId: WABA.wabaId, displayNumber: '+1 555 000 0000', defaultTeamId: null });
  });

  it('test connection shows Meta’s answer, and Meta’s refusal in words', async () => {
    let refuse = false;
    const calls = registry((url) =>
      url.endsWith('/test')
        ? refuse
          ? { status: 422, body: { message: 'Meta refused: Invalid OAuth access token', details: { code: 190 } } }
          : { status: 200, body: { ok: true, phoneNumberId: NUMBER.phoneNumberId, verifiedName: 'Acme Support', displayPhoneNumber: '+1 555-078-3881', qualityRating: 'GREEN', messagingLimit: 'TIER_250', testedAt: new Date().toISOString() } }
        : undefined,
    );
    renderWithApp(<WhatsAppAccounts />);
    await screen.findByText('+1 555 078 3881');
    const cell = screen.getByLabelText('Connection of +1 555 078 3881');
    expect(cell.textContent).toBe('not tested');
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    await waitFor(() => expect(cell.textContent).toMatch(/^Connected: Acme Support, \+1 555-078-3881, quality GREEN, limit TIER_250/));
    expect(calls.find((c) => c.url.endsWith('/test'))!.init.method).toBe('POST');
    refuse = true;
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    await waitFor(() => expect(cell.textContent).toBe('Failed: Meta refused: Invalid OAuth access token'));
  });

  it('the number’s bot: shows the current one, offers only live bot-scoped keys, sets (PUT) and clears (DELETE)', async () => {
    let bot: { id: string; name: string } | null = { id: KEYS[0].id, name: 'Triage bot' };
    const calls = registry((url, init) => {
      if (!url.endsWith(`/numbers/${NUMBER.phoneNumberId}/bot`)) return undefined;
      if (init.method === 'PUT') bot = { id: body({ init }).apiKeyId, name: 'Triage bot' };
      if (init.method === 'DELETE') bot = null;
      return { status: 200, body: { phoneNumberId: NUMBER.phoneNumberId, bot } };
    });
    const { toasts } = renderWithApp(<WhatsAppAccounts />);
    const select = (await screen.findByLabelText('Bot of +1 555 078 3881')) as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe(KEYS[0].id));
    // the revoked bot and the key without the bot scope are not offered
    expect([...select.options].map((o) => o.textContent)).toEqual(['No bot', 'Triage bot']);
    fireEvent.change(select, { target: { value: '' } });
    await waitFor(() => expect(calls.some((c) => c.init.method === 'DELETE')).toBe(true));
    await waitFor(() => expect(select.value).toBe(''));
    expect(toasts).toContain('+1 555 078 3881 has no bot: conversations go to its team');
    fireEvent.change(select, { target: { value: KEYS[0].id } });
    await waitFor(() => expect(select.value).toBe(KEYS[0].id));
    const put = calls.find((c) => c.init.method === 'PUT')!;
    expect(put.url).toMatch(/\/api\/v1\/numbers\/106540352242922\/bot$/);
    expect(body(put)).toEqual({ apiKeyId: KEYS[0].id });
  });

  it('the number’s bot: the API’s refusal is shown in words and the choice is not changed', async () => {
    registry((url, init) =>
      url.endsWith('/bot') && init.method === 'PUT' ? { status: 400, body: { message: 'apiKeyId: API key "Triage bot" is revoked' } } : undefined,
    );
    renderWithApp(<WhatsAppAccounts />);
    const select = (await screen.findByLabelText('Bot of +1 555 078 3881')) as HTMLSelectElement;
    await waitFor(() => expect(select.disabled).toBe(false));
    fireEvent.change(select, { target: { value: KEYS[0].id } });
    expect((await screen.findByRole('alert')).textContent).toContain('apiKeyId: API key "Triage bot" is revoked');
    expect(select.value).toBe('');
  });

  it('a non-admin sees the refusal instead of the screens', async () => {
    stubFetch(() => ({ status: 403, body: { message: 'requires scope admin' } }));
    renderWithApp(<WhatsAppAccounts />);
    expect(await screen.findByText('WhatsApp accounts are not available: requires scope admin')).toBeTruthy();
  });
});
