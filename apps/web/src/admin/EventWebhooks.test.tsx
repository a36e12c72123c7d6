import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { renderWithApp, stubFetch } from '../test-utils';
import { EventWebhooks } from './EventWebhooks';

const SUB = {
  id: 's1111111-1111-4111-8111-111111111111',
  url: 'https://crm.example.com/hooks',
  eventTypes: ['message.received', 'conversation.resolved'],
  description: 'CRM sync',
  secret: { set: true, last4: 'k9Zq' },
  status: 'paused',
  failureStreak: 12,
  pausedAt: new Date().toISOString(),
  pausedReason: 'failing for 24 h',
  createdAt: '',
  updatedAt: '',
};
const DELIVERY = {
  id: 'd1111111-1111-4111-8111-111111111111',
  eventId: 'e1111111-1111-4111-8111-111111111111',
  eventType: 'message.received',
  conversationId: null,
  status: 'failed',
  attempts: 2,
  nextAttemptAt: new Date().toISOString(),
  lastStatusCode: 500,
  lastError: null,
  createdAt: new Date().toISOString(),
  deliveredAt: null,
  attemptLog: [
    { at: new Date().toISOString(), statusCode: null, error: 'connection refused', durationMs: 12 },
    { at: new Date().toISOString(), statusCode: 500, error: null, durationMs: 80 },
  ],
};
const body = (c: { init: RequestInit }) => JSON.parse(String(c.init.body));

describe('admin: event webhooks', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('lists subscriptions (secret write-only) and shows the signing secret once after creating', async () => {
    const calls = stubFetch((url, init) =>
      init.method === 'POST' ? { status: 201, body: { ...SUB, id: 's2', status: 'active', signingSecret: 'whsec_shown_once_1234' } } : { status: 200, body: { items: [SUB], nextCursor: null } },
    );
    renderWithApp(<EventWebhooks />);
    const row = (await screen.findByText(SUB.url)).closest('tr')!;
    expect(within(row).getByText('set ••••k9Zq')).toBeTruthy();
    expect(within(row).getByText('paused: failing for 24 h')).toBeTruthy();
    expect(within(row).getByText('12 failed in a row')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: ' https://hooks.example.org/in ' } });
    fireEvent.click(screen.getByLabelText('outbound.failed'));
    fireEvent.click(screen.getByRole('button', { name: 'Add subscription' }));
    expect((await screen.findByRole('status')).textContent).toContain('whsec_shown_once_1234');
    expect(body(calls.find((c) => c.init.method === 'POST')!)).toEqual({ url: 'https://hooks.example.org/in', eventTypes: ['message.received', 'outbound.failed'] });
  });

  it('resumes a paused subscription and shows a refused URL in words', async () => {
    const calls = stubFetch((_url, init) =>
      init.method === 'PATCH' ? { status: 200, body: { ...SUB, status: 'active' } } : init.method === 'POST' ? { status: 400, body: { message: 'url: private addresses are not allowed (10.0.0.5)', details: { rule: 'private-address' } } } : { status: 200, body: { items: [SUB], nextCursor: null } },
    );
    renderWithApp(<EventWebhooks />);
    fireEvent.click(await screen.findByRole('button', { name: 'Resume' }));
    await waitFor(() => expect(calls.some((c) => c.init.method === 'PATCH')).toBe(true));
    const patch = calls.find((c) => c.init.method === 'PATCH')!;
    expect(patch.url).toMatch(new RegExp(`/api/v1/webhook-subscriptions/${SUB.id}$`));
    expect(body(patch)).toEqual({ status: 'active' });
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'http://10.0.0.5/hook' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add subscription' }));
    expect((await screen.findByRole('alert')).textContent).toBe('url: private addresses are not allowed (10.0.0.5)');
  });

  it('shows the delivery log with attempts and redelivers; a refused redelivery is shown in words', async () => {
    let busy = false;
    const calls = stubFetch((url, init) => {
      if (url.endsWith('/redeliver')) return busy ? { status: 400, body: { message: `delivery ${DELIVERY.id} is being sent right now` } } : { status: 200, body: { ...DELIVERY, status: 'pending' } };
      if (url.includes('/deliveries')) return { status: 200, body: { items: [DELIVERY], nextCursor: null } };
      return (init.method ?? 'GET') !== 'GET' ? { status: 500 } : { status: 200, body: { items: [SUB], nextCursor: null } };
    });
    renderWithApp(<EventWebhooks />);
    fireEvent.click(await screen.findByRole('button', { name: 'Deliveries' }));
    const row = (await screen.findByText(DELIVERY.eventId)).closest('tr')!;
    expect(within(row).getByText('last: HTTP 500')).toBeTruthy();
    expect(within(row).getByText(/connection refused \(12 ms\)$/)).toBeTruthy();
    expect(within(row).getByText(/HTTP 500 \(80 ms\)$/)).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'Redeliver' }));
    await waitFor(() => expect(calls.filter((c) => c.url.endsWith('/redeliver'))).toHaveLength(1));
    const re = calls.find((c) => c.url.endsWith('/redeliver'))!;
    expect(re.url).toMatch(new RegExp(`/api/v1/webhook-subscriptions/${SUB.id}/deliveries/${DELIVERY.id}/redeliver$`));
    expect(re.init.method).toBe('POST');
    await waitFor(() => expect(calls.filter((c) => c.url.includes('/deliveries?')).length).toBe(2));
    busy = true;
    fireEvent.click(within(screen.getByText(DELIVERY.eventId).closest('tr')!).getByRole('button', { name: 'Redeliver' }));
    expect((await screen.findByRole('alert')).textContent).toBe(`delivery ${DELIVERY.id} is being sent right now`);
  });
});
