import { screen, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { conversation, MANAGER, renderWithApp, stubFetch } from '../test-utils';
import { Dashboard } from './Dashboard';

describe('Dashboard team queues', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('counts a conversation a bot holds as "with a bot", not unassigned', async () => {
    const items = [
      conversation({ id: 'c-owned' }),
      conversation({ id: 'c-queued', owner: null }),
      conversation({ id: 'c-bot', owner: null, bot: { id: 'b1', name: 'Helper bot', since: new Date().toISOString() } }),
    ];
    stubFetch((url) => {
      if (url.startsWith('/api/v1/conversations')) return { status: 200, body: { items, nextCursor: null } };
      if (url.startsWith('/api/v1/agents')) return { status: 200, body: { items: [] } };
      return { status: 404, body: { message: 'not here' } };
    });
    renderWithApp(<Dashboard />, { me: MANAGER });
    const table = (await screen.findByRole('heading', { name: 'Team queues' })).closest('section')!;
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Team', 'Unassigned', 'With a bot', 'Open']);
    const sales = within(table).getByText('Sales').closest('tr')!;
    expect(within(sales).getAllByRole('cell').map((c) => c.textContent)).toEqual(['Sales', '1', '1', '3']);
  });
});
