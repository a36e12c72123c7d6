import { fireEvent, screen, waitFor } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { conversation, renderWithApp, stubFetch } from '../test-utils';
import { ConversationView } from './ConversationView';

const noop = () => undefined;

describe('remind me: tomorrow at a time in the team\'s time zone', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  function stack() {
    const conv = conversation();
    const calls = stubFetch((url, init) => {
      if (url.endsWith('/reminders') && init.method === 'POST') {
        const body = JSON.parse(String(init.body));
        return { status: 201, body: { id: 'r-1', conversationId: conv.id, at: '2026-11-26T08:00:00.000Z', note: null, state: 'pending', ...(body.nextDayAt ? { timeZone: 'Europe/Berlin' } : {}) } };
      }
      if (url.endsWith(`/conversations/${conv.id}`)) return { status: 200, body: conv };
      if (url.includes('/timeline')) return { status: 200, body: { items: [], moreMessages: false } };
      return { status: 200, body: { items: [] } };
    });
    const r = renderWithApp(<ConversationView id={conv.id} onChanged={noop} />);
    return { conv, calls, ...r };
  }
  const posted = (calls: { url: string; init: RequestInit }[]) => calls.filter((c) => c.url.endsWith('/reminders') && c.init.method === 'POST').map((c) => JSON.parse(String(c.init.body)));

  it('"Tomorrow at 09:00" sends nextDayAt (the server resolves the zone) and says which zone it used', async () => {
    const { calls, toasts } = stack();
    fireEvent.click(await screen.findByRole('button', { name: 'Remind me' }));
    fireEvent.click(screen.getByRole('button', { name: 'Tomorrow at 09:00' }));
    await waitFor(() => expect(posted(calls)).toEqual([{ nextDayAt: '09:00' }]));
    await waitFor(() => expect(toasts.some((t) => t.includes('(09:00 in Europe/Berlin)'))).toBe(true));
    expect(screen.queryByRole('dialog', { name: 'Remind me' })).toBeNull();
  });

  it('another time of day can be picked; a preset still sends an instant', async () => {
    const { calls } = stack();
    fireEvent.click(await screen.findByRole('button', { name: 'Remind me' }));
    fireEvent.change(screen.getByLabelText("Tomorrow at (the team's time zone)"), { target: { value: '18:30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Tomorrow at 18:30' }));
    await waitFor(() => expect(posted(calls)).toEqual([{ nextDayAt: '18:30' }]));
    fireEvent.click(screen.getByRole('button', { name: 'Remind me' }));
    fireEvent.click(screen.getByRole('button', { name: '1 hour' }));
    await waitFor(() => expect(posted(calls)).toHaveLength(2));
    expect(Object.keys(posted(calls)[1])).toEqual(['at']);
    expect(Date.parse(posted(calls)[1].at) - Date.now()).toBeGreaterThan(50 * 60_000);
  });
});
