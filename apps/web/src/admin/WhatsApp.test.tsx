import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { renderWithApp, stubFetch } from '../test-utils';
import { WhatsAppAccounts } from './WhatsApp';

const APP = { id: 'a1111111-1111-4111-8111-111111111111', name: 'Main app', metaAppId: '123456', status: 'active', appSecret: { set: true, last4: '1234' }, verifyToken: { set: false, last4: null }, accessToken: { set: true, last4: 'wxyz' }, createdAt: '', updatedAt: '' };
const WABA = { wabaId: '100000000000001', name: 'Acme', appId: APP.id, status: 'active' };
const NUMBER = { phoneNumberId: '106540352242922', wabaId: WABA.wabaId, displayNumber: '+1 555 078 3881', defaultTeamId: null, graphApiVersion: 'v23.0', status: 'active', lastTest: null };

function registry(over: (url: string, init: RequestInit) => { status: number; body?: unknown } | undefined = () => undefined) {
  return stubFetch((url, init) => {
    const r = over(url, init);
    if (r) return r;
    if (url.endsWith('/api/v1/meta-apps')) return { status: 200, body: { items: [APP] } };
    if (url.endsWith('/api/v1/whatsapp-accounts')) return { status: 200, body: { items: [WABA] } };
    if (url.endsWith('/api/v1/numbers')) return { status: 200, body: { items: [NUMBER] } };
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

  it('a non-admin sees the refusal instead of the screens', async () => {
    stubFetch(() => ({ status: 403, body: { message: 'requires scope admin' } }));
    renderWithApp(<WhatsAppAccounts />);
    expect(await screen.findByText('WhatsApp accounts are not available: requires scope admin')).toBeTruthy();
  });
});
