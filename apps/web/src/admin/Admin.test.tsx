import { fireEvent, screen } from '@testing-library/react';
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
    expect(tabs()).toEqual(['Users', 'Roles', 'Teams', 'Labels', 'API keys', 'SLA policies', 'Business hours', 'Routing rules', 'Automation', 'Event webhooks', 'WhatsApp', 'Templates']);
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Event webhooks');
  });

  it('managers get only what the API lets them change (and read their numbers’ templates); an admin-only path falls back to their first screen', () => {
    renderWithApp(<Admin path="/admin/whatsapp" />, { me: MANAGER });
    expect(tabs()).toEqual(['SLA policies', 'Business hours', 'Routing rules', 'Automation', 'Templates']);
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('SLA policies');
  });
});

describe('roles', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('lists the built-in roles with what they may do and their permissions, read-only', async () => {
    const calls = stubFetch((url) =>
      url.startsWith('/api/v1/roles')
        ? {
            status: 200,
            body: {
              custom: false,
              items: [
                { role: 'admin', description: 'Everything, in every team.', scopes: [{ scope: 'admin', description: 'manage users, teams, roles' }] },
                { role: 'viewer', description: 'Read only: their teams’ conversations.', scopes: [{ scope: 'conversations:read', description: 'see conversations' }] },
              ],
            },
          }
        : { status: 200, body: { items: [] } },
    );
    renderWithApp(<Admin path="/admin/roles" />, { me: { ...ME, role: 'admin' } });
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Roles');
    const viewer = (await screen.findByRole('rowheader', { name: 'viewer' })).closest('tr')!;
    expect(viewer.textContent).toContain('Read only: their teams’ conversations.');
    expect(viewer.textContent).toContain('conversations:read: see conversations');
    expect(screen.getByText(/custom roles are not available yet/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /add|save|delete/i })).toBeNull(); // read-only
    expect(calls.every((c) => (c.init.method ?? 'GET') === 'GET')).toBe(true);
  });
});

describe('SLA policies', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('a policy can count time in a business-hours calendar; the refusal is shown in words', async () => {
    const HOURS = { id: 'b1111111-1111-4111-8111-111111111111', name: 'Berlin office' };
    const calls = stubFetch((url, init) =>
      init.method === 'POST'
        ? { status: 400, body: { message: 'teamId: you manage no such team' } }
        : { status: 200, body: { items: url.includes('business-hours') ? [HOURS] : [{ id: 'p1', name: 'Gold', teamId: 't-x', priority: null, firstResponseMinutes: 5, nextResponseMinutes: null, resolutionMinutes: null, businessHoursId: HOURS.id, warnAtPercent: 80, onBreach: 'notify' }] } },
    );
    renderWithApp(<Admin path="/admin/sla" />, { me: MANAGER });
    expect(await screen.findByText('in Berlin office', { selector: 'td' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Silver' } });
    fireEvent.change(screen.getByLabelText('Count time'), { target: { value: HOURS.id } });
    fireEvent.submit(screen.getByRole('button', { name: 'Add policy' }).closest('form')!);
    expect((await screen.findByRole('alert')).textContent).toBe('teamId: you manage no such team');
    const post = calls.find((c) => c.init.method === 'POST')!;
    expect(JSON.parse(String(post.init.body))).toEqual({ name: 'Silver', teamId: '', firstResponseMinutes: 15, nextResponseMinutes: null, resolutionMinutes: null, businessHoursId: HOURS.id });
  });
});
