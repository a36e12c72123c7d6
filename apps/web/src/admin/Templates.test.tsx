import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import type { Me } from '../lib/types';
import { MANAGER, ME, renderWithApp, stubFetch } from '../test-utils';
import { Templates } from './Templates';

const ADMIN: Me = { ...ME, id: 'u-admin', role: 'admin', scopes: [...ME.scopes, 'admin'] };
const SYNCED = '2026-11-25T10:00:00.000Z';
const tpl = (name: string, status: string, body: string | null, over: Record<string, unknown> = {}) => ({
  wabaId: '100000000000001',
  templateId: `9${name.length}`,
  name,
  language: 'en_US',
  status,
  category: 'UTILITY',
  components: [],
  body,
  bodyParameterCount: body ? new Set(body.match(/\{\{\d+\}\}/g) ?? []).size : null,
  syncedAt: SYNCED,
  updatedAt: SYNCED,
  ...over,
});
const ITEMS = [
  tpl('abandoned_cart', 'REJECTED', 'You left {{1}} in your cart.', { category: 'MARKETING' }),
  tpl('appointment', 'PENDING', 'Hola {{1}}, su cita es el {{2}}.', { language: 'es' }),
  tpl('old_offer', 'DISABLED', 'Old offer'),
  tpl('order_update', 'APPROVED', 'Hi {{1}}, your order {{2}} is now {{3}}.'),
  tpl('seasonal_promo', 'PAUSED', 'Our {{1}} sale starts now.', { category: 'MARKETING' }),
];
const NUMBERS = [
  { phoneNumberId: '106540352242922', wabaId: '100000000000001', displayNumber: '+1 555 078 3881', defaultTeamId: null },
  { phoneNumberId: '106540352242999', wabaId: '100000000000002', displayNumber: '+1 555 078 9999', defaultTeamId: null },
];

function templatesApi(over: (url: string, init: RequestInit) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }> | undefined = () => undefined) {
  return stubFetch((url, init) => {
    const r = over(url, init);
    if (r) return r;
    if (url.includes('/api/v1/templates')) {
      const q = new URL(url, 'http://x').searchParams;
      const items = ITEMS.filter((t) => !q.get('status') || t.status === q.get('status'));
      const numbers = q.get('phoneNumberId') ? NUMBERS.filter((n) => n.phoneNumberId === q.get('phoneNumberId')) : NUMBERS;
      return { status: 200, body: { items: q.get('phoneNumberId') === NUMBERS[1].phoneNumberId ? [] : items, numbers, syncedWabaIds: ['100000000000001'], lastSyncedAt: SYNCED } };
    }
    return { status: 404, body: { message: `unexpected ${url}` } };
  });
}
const rowOf = (name: string) => screen.getByText(name, { selector: 'td' }).closest('tr')!;

describe('admin: Templates tab', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('lists every template per number with language, category, status in words, body with {{n}} parameters and last sync', async () => {
    templatesApi();
    renderWithApp(<Templates />, { me: ADMIN });
    await screen.findByText('order_update', { selector: 'td' });
    expect(screen.getByText(/^Templates of \+1 555 078 3881/)).toBeTruthy();
    const order = rowOf('order_update');
    expect(within(order).getByText('Approved — can be sent')).toBeTruthy();
    expect(within(order).getByText('utility')).toBeTruthy();
    expect(within(order).getByText('en_US')).toBeTruthy();
    expect(within(order).getByLabelText('parameter 2').textContent).toBe('{{2}}');
    expect(within(order).getByText('(3 parameters)')).toBeTruthy();
    // every status has its words, not only a colour
    expect(within(rowOf('abandoned_cart')).getByText('Rejected')).toBeTruthy();
    expect(within(rowOf('appointment')).getByText('Pending review')).toBeTruthy();
    expect(within(rowOf('seasonal_promo')).getByText('Paused (low quality)')).toBeTruthy();
    expect(within(rowOf('old_offer')).getByText('Disabled')).toBeTruthy();
    expect(within(rowOf('appointment')).getByText('es')).toBeTruthy();
    expect(screen.getByRole('status').textContent).toMatch(/^Last synced: /);
    // created in WhatsApp Manager: no create form here
    expect(screen.getByText(/Templates are created and edited in WhatsApp Manager/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /create|add/i })).toBeNull();
  });

  it('filters by number and status with the query the API expects', async () => {
    const calls = templatesApi();
    renderWithApp(<Templates />, { me: ADMIN });
    await screen.findByText('order_update', { selector: 'td' });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'REJECTED' } });
    await waitFor(() => expect(screen.queryByText('order_update', { selector: 'td' })).toBeNull());
    expect(screen.getByText('abandoned_cart', { selector: 'td' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Business number'), { target: { value: NUMBERS[1].phoneNumberId } });
    expect(await screen.findByText(/No templates with status Rejected/)).toBeTruthy();
    expect(calls.at(-1)!.url).toMatch(/\/api\/v1\/templates\?phoneNumberId=106540352242999&status=REJECTED$/);
    // the picker keeps every number while one is chosen
    expect([...(screen.getByLabelText('Business number') as HTMLSelectElement).options].map((o) => o.textContent)).toEqual(['All numbers', '+1 555 078 3881', '+1 555 078 9999']);
  });

  it('Sync now: busy while it runs, then reloads and says how many; the 503 is shown in words', async () => {
    let release!: (r: { status: number; body?: unknown }) => void;
    let fail = false;
    const calls = templatesApi((url, init) => {
      if (!url.endsWith('/api/v1/templates/sync')) return undefined;
      if (fail) return { status: 503, body: { message: 'templates could not be synced from the WhatsApp Graph API (WABA 100000000000001: unreachable: ECONNREFUSED)' } };
      return new Promise((r) => (release = r));
    });
    const { toasts } = renderWithApp(<Templates />, { me: ADMIN });
    await screen.findByText('order_update', { selector: 'td' });
    const loads = calls.filter((c) => !c.url.endsWith('/sync')).length;
    fireEvent.click(screen.getByRole('button', { name: 'Sync now' }));
    const busy = await screen.findByRole('button', { name: 'Syncing…' });
    expect((busy as HTMLButtonElement).disabled).toBe(true);
    expect(calls.find((c) => c.url.endsWith('/sync'))!.init.method).toBe('POST');
    release({ status: 200, body: { synced: 6, wabaIds: ['100000000000001'], failures: [], syncedAt: SYNCED } });
    await screen.findByRole('button', { name: 'Sync now' });
    await waitFor(() => expect(calls.filter((c) => !c.url.endsWith('/sync')).length).toBe(loads + 1));
    expect(toasts).toContain('Synced 6 templates from WhatsApp');

    fail = true;
    fireEvent.click(screen.getByRole('button', { name: 'Sync now' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Sync failed: templates could not be synced from the WhatsApp Graph API (WABA 100000000000001: unreachable: ECONNREFUSED)',
    );
    expect(screen.getByText('order_update', { selector: 'td' })).toBeTruthy(); // the stored list stays
  });

  it('managers read without Sync now; a refusal is shown in words', async () => {
    templatesApi();
    renderWithApp(<Templates />, { me: MANAGER });
    await screen.findByText('order_update', { selector: 'td' });
    expect(screen.queryByRole('button', { name: 'Sync now' })).toBeNull();
  });

  it('an agent sees the API’s refusal', async () => {
    stubFetch(() => ({ status: 403, body: { message: 'templates are for managers and admins' } }));
    renderWithApp(<Templates />);
    expect((await screen.findByRole('alert')).textContent).toBe('Templates are not available: templates are for managers and admins');
  });
});
