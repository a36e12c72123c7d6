import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { MANAGER, renderWithApp, stubFetch } from '../test-utils';
import { BusinessHours } from './BusinessHours';

const BERLIN = {
  id: 'b1111111-1111-4111-8111-111111111111',
  name: 'Berlin office',
  timeZone: 'Europe/Berlin',
  weekly: [
    { day: 'mon', open: '09:00', close: '12:00' },
    { day: 'mon', open: '13:00', close: '17:00' },
    { day: 'fri', open: '09:00', close: '15:00' },
  ],
  holidays: [{ date: '2026-12-25', name: 'Christmas' }],
  createdAt: '',
  updatedAt: '',
};
const body = (c: { init: RequestInit }) => JSON.parse(String(c.init.body));

describe('admin: business hours', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('lists calendars in words and saves an edit with the whole calendar', async () => {
    const calls = stubFetch((_url, init) => (init.method === 'PATCH' ? { status: 200, body: BERLIN } : { status: 200, body: { items: [BERLIN] } }));
    renderWithApp(<BusinessHours />, { me: MANAGER });
    const row = (await screen.findByText('Berlin office')).closest('tr')!;
    expect(within(row).getByText('Mon 09:00–12:00, 13:00–17:00; Fri 09:00–15:00')).toBeTruthy();
    expect(within(row).getByText('2026-12-25 Christmas')).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'Edit' }));
    fireEvent.change(screen.getByLabelText('Closes (interval 3)'), { target: { value: '16:00' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add holiday' }));
    fireEvent.change(screen.getByLabelText('Holiday 2 date'), { target: { value: '2026-12-26' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save hours' }));
    await waitFor(() => expect(calls.some((c) => c.init.method === 'PATCH')).toBe(true));
    const patch = calls.find((c) => c.init.method === 'PATCH')!;
    expect(patch.url).toMatch(new RegExp(`/api/v1/sla/business-hours/${BERLIN.id}$`));
    expect(body(patch)).toEqual({
      name: 'Berlin office',
      timeZone: 'Europe/Berlin',
      weekly: [BERLIN.weekly[0], BERLIN.weekly[1], { day: 'fri', open: '09:00', close: '16:00' }],
      holidays: [{ date: '2026-12-25', name: 'Christmas' }, { date: '2026-12-26' }],
    });
  });

  it('creates a calendar and shows sla’s refusal in words', async () => {
    const calls = stubFetch((_url, init) => (init.method === 'POST' ? { status: 400, body: { message: 'unknown time zone Mars/Olympus' } } : { status: 200, body: { items: [] } }));
    renderWithApp(<BusinessHours />);
    fireEvent.change(await screen.findByLabelText('Name'), { target: { value: 'Night shift' } });
    fireEvent.change(screen.getByLabelText('Time zone'), { target: { value: 'Mars/Olympus' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add hours' }));
    expect((await screen.findByRole('alert')).textContent).toBe('unknown time zone Mars/Olympus');
    const post = calls.find((c) => c.init.method === 'POST')!;
    expect(body(post)).toEqual({
      name: 'Night shift',
      timeZone: 'Mars/Olympus',
      weekly: ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, open: '09:00', close: '17:00' })),
      holidays: [],
    });
  });

  it('shows why the list is not available', async () => {
    stubFetch(() => ({ status: 503, body: { message: 'sla is not answering' } }));
    renderWithApp(<BusinessHours />);
    expect(await screen.findByText('Business hours are not available: sla is not answering')).toBeTruthy();
  });
});
