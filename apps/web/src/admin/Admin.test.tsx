import { screen } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { MANAGER, ME, renderWithApp, stubFetch } from '../test-utils';
import { Admin } from './Admin';

const tabs = () => screen.getAllByRole('tab').map((t) => t.textContent);

describe('admin tabs by role', () => {
  beforeEach(() => {
    saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 });
    stubFetch(() => ({ status: 200, body: { items: [], nextCursor: null } }));
  });

  it('admins get every screen', () => {
    renderWithApp(<Admin path="/admin/webhooks" />, { me: { ...ME, role: 'admin' } });
    expect(tabs()).toEqual(['Users', 'Teams', 'Labels', 'API keys', 'SLA policies', 'Business hours', 'Routing rules', 'Automation', 'Event webhooks', 'WhatsApp']);
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Event webhooks');
  });

  it('managers get only what the API lets them change; an admin-only path falls back to their first screen', () => {
    renderWithApp(<Admin path="/admin/whatsapp" />, { me: MANAGER });
    expect(tabs()).toEqual(['SLA policies', 'Business hours', 'Routing rules', 'Automation']);
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('SLA policies');
  });
});
