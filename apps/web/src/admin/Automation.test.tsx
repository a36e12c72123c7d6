import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { MANAGER, renderWithApp, stubFetch } from '../test-utils';
import { Automation } from './Automation';

const RULE = {
  id: 'r1111111-1111-4111-8111-111111111111',
  position: 1,
  name: 'Refunds to billing',
  event: 'message.received',
  conditions: { keywords: ['refund', 'money back'] },
  actions: [
    { type: 'addLabels', labels: ['billing'] },
    { type: 'setPriority', priority: 'high' },
  ],
  enabled: true,
  runCount: 7,
  errorCount: 1,
  loopsStopped: 0,
  lastError: 'outside the 24 h window',
};
const LISTS: Record<string, unknown[]> = {
  '/api/v1/auto-replies': [{ id: 'a1', kind: 'away', teamId: null, phoneNumberId: '106540352242922', text: 'We are closed, back at 9.', periodMinutes: 1440, enabled: true, sentCount: 3, errorCount: 0, lastError: null, updatedAt: '' }],
  '/api/v1/canned-responses': [{ id: 'c1', shortcut: 'thanks', title: 'Thank you', text: 'Thanks {{contact.name}}!', teamId: null, ownerId: MANAGER.id, updatedAt: '' }],
  '/api/v1/macros': [{ id: 'm1', name: 'Escalate', ownerId: null, steps: [{ type: 'setPriority', priority: 'urgent' }, { type: 'note', body: 'escalated' }], updatedAt: '' }],
  '/api/v1/automation/rules': [RULE],
  '/api/v1/csat/settings': [],
};
const body = (c: { init: RequestInit }) => JSON.parse(String(c.init.body));

function stub(write: (url: string, init: RequestInit) => { status: number; body?: unknown }) {
  return stubFetch((url, init) => {
    const path = new URL(url, 'http://x').pathname;
    if ((init.method ?? 'GET') === 'GET') return LISTS[path] ? { status: 200, body: { items: LISTS[path] } } : { status: 404, body: { message: `unexpected ${path}` } };
    return write(path, init);
  });
}
const formOf = (button: string) => screen.getByRole('button', { name: button }).closest('form')!;

describe('admin: automation', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('shows replies, canned responses, macros and rules in words', async () => {
    stub(() => ({ status: 500 }));
    renderWithApp(<Automation />, { me: MANAGER });
    expect(await screen.findByText('We are closed, back at 9.')).toBeTruthy();
    expect(screen.getByText('number 106540352242922')).toBeTruthy();
    expect(await screen.findByText('/thanks')).toBeTruthy();
    expect(screen.getByText('only me', { selector: 'td' })).toBeTruthy();
    expect(await screen.findByText('priority urgent → note: escalated')).toBeTruthy();
    const rule = (await screen.findByText('Refunds to billing')).closest('tr')!;
    expect(within(rule).getByText('keywords: refund, money back')).toBeTruthy();
    expect(within(rule).getByText('add labels billing → priority high')).toBeTruthy();
    expect(within(rule).getByText('failed 1× — outside the 24 h window')).toBeTruthy();
  });

  it('creates a rule with the right body and shows routing’s refusal in words', async () => {
    const calls = stub((path) => (path === '/api/v1/automation/rules' ? { status: 400, body: { message: 'rules would trigger each other endlessly: Refunds to billing → New rule' } } : { status: 500 }));
    renderWithApp(<Automation />, { me: MANAGER });
    await screen.findByText('Refunds to billing');
    const form = formOf('Add rule');
    fireEvent.change(within(form).getByLabelText('Rule name'), { target: { value: 'Idle nudge' } });
    fireEvent.change(within(form).getByLabelText('On event'), { target: { value: 'conversation.idle' } });
    fireEvent.change(within(form).getByLabelText('Idle for (min)'), { target: { value: '30' } });
    fireEvent.change(within(form).getByLabelText('Has a label (comma-separated)'), { target: { value: 'vip, ' } });
    fireEvent.change(within(form).getByLabelText('Action 1 labels'), { target: { value: 'nudged, ' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Add action' }));
    fireEvent.change(within(form).getByLabelText('Action 2 type'), { target: { value: 'reply' } });
    fireEvent.change(within(form).getByLabelText('Action 2 text'), { target: { value: 'Are you still there?' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Add rule' }));
    expect((await within(form).findByRole('alert')).textContent).toBe('rules would trigger each other endlessly: Refunds to billing → New rule');
    const post = calls.find((c) => c.init.method === 'POST')!;
    expect(body(post)).toEqual({
      name: 'Idle nudge',
      event: 'conversation.idle',
      conditions: { labels: ['vip'], idleMinutes: 30 },
      actions: [
        { type: 'addLabels', labels: ['nudged'] },
        { type: 'reply', text: 'Are you still there?' },
      ],
    });
  });

  it('dry run lists the rules that would run, or the refusal', async () => {
    let refuse = false;
    const calls = stub((path) =>
      path.endsWith('/dry-run') ? (refuse ? { status: 404, body: { message: 'conversation not found' } } : { status: 200, body: { matches: [{ ruleId: RULE.id, name: RULE.name, actions: RULE.actions }] } }) : { status: 500 },
    );
    renderWithApp(<Automation />, { me: MANAGER });
    const form = formOf('Test the automation');
    fireEvent.change(within(form).getByLabelText('Conversation id'), { target: { value: ' 11111111-1111-4111-8111-111111111111 ' } });
    fireEvent.change(within(form).getByLabelText('Message text'), { target: { value: 'I want a refund' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Test the automation' }));
    expect((await within(form).findByRole('status')).textContent).toBe('Refunds to billing: add labels billing → priority high');
    expect(body(calls.find((c) => c.url.endsWith('/dry-run'))!)).toEqual({ conversationId: '11111111-1111-4111-8111-111111111111', event: 'message.received', text: 'I want a refund' });
    refuse = true;
    fireEvent.click(within(form).getByRole('button', { name: 'Test the automation' }));
    await waitFor(() => expect(within(form).getByRole('status').textContent).toBe('conversation not found'));
  });

  it('saves an away reply, a canned response and a macro with the right bodies', async () => {
    const calls = stub((path) => (path === '/api/v1/canned-responses' ? { status: 400, body: { message: 'shortcut must be 1–40 letters, digits, _ . -' } } : { status: 200, body: {} }));
    renderWithApp(<Automation />, { me: MANAGER });
    await screen.findByText('/thanks');
    const reply = formOf('Save reply');
    fireEvent.change(within(reply).getByLabelText('Kind'), { target: { value: 'away' } });
    fireEvent.change(within(reply).getByLabelText('For'), { target: { value: 'number' } });
    fireEvent.change(within(reply).getByLabelText('Phone number id'), { target: { value: '106540352242922' } });
    fireEvent.change(within(reply).getByLabelText('Reply text'), { target: { value: 'Back at 9.' } });
    fireEvent.click(within(reply).getByRole('button', { name: 'Save reply' }));
    await waitFor(() => expect(calls.some((c) => c.init.method === 'PUT')).toBe(true));
    expect(body(calls.find((c) => c.init.method === 'PUT')!)).toEqual({ kind: 'away', phoneNumberId: '106540352242922', text: 'Back at 9.', periodMinutes: 1440, enabled: true });

    const canned = formOf('Add response');
    fireEvent.change(within(canned).getByLabelText('Shortcut'), { target: { value: 'bad shortcut' } });
    fireEvent.change(within(canned).getByLabelText('Title'), { target: { value: 'Bye' } });
    fireEvent.change(within(canned).getByLabelText('Response text'), { target: { value: 'Bye!' } });
    fireEvent.click(within(canned).getByRole('button', { name: 'Add response' }));
    expect((await within(canned).findByRole('alert')).textContent).toBe('shortcut must be 1–40 letters, digits, _ . -');
    expect(body(calls.find((c) => c.url.endsWith('/api/v1/canned-responses') && c.init.method === 'POST')!)).toEqual({ shortcut: 'bad shortcut', title: 'Bye', text: 'Bye!' });

    const macro = formOf('Add macro');
    fireEvent.change(within(macro).getByLabelText('Macro name'), { target: { value: 'Park' } });
    fireEvent.click(within(macro).getByLabelText('Shared with everyone'));
    fireEvent.change(within(macro).getByLabelText('Step 1 type'), { target: { value: 'snooze' } });
    fireEvent.change(within(macro).getByLabelText('Step 1 minutes'), { target: { value: '120' } });
    fireEvent.click(within(macro).getByRole('button', { name: 'Add macro' }));
    await waitFor(() => expect(calls.some((c) => c.url.endsWith('/api/v1/macros') && c.init.method === 'POST')).toBe(true));
    expect(body(calls.find((c) => c.url.endsWith('/api/v1/macros') && c.init.method === 'POST')!)).toEqual({ name: 'Park', shared: true, steps: [{ type: 'snooze', minutes: 120 }] });
  });
  it('edits a rule in the same form (PATCH; conditions the form does not show are kept) and shows the refusal', async () => {
    const saved = LISTS['/api/v1/automation/rules'];
    LISTS['/api/v1/automation/rules'] = [{ ...RULE, conditions: { ...RULE.conditions, priorities: ['high'] } }];
    try {
      const calls = stub((path, init) => (init.method === 'PATCH' ? { status: 400, body: { message: 'conditions.idleMinutes is required for event conversation.idle' } } : { status: 500 }));
      renderWithApp(<Automation />, { me: MANAGER });
      fireEvent.click(await screen.findByRole('button', { name: 'Edit rule Refunds to billing' }));
      const form = formOf('Save rule');
      expect(within(form).getByRole('heading').textContent).toBe('Edit rule Refunds to billing');
      expect((within(form).getByLabelText('Rule name') as HTMLInputElement).value).toBe('Refunds to billing');
      expect((within(form).getByLabelText('Text contains (comma-separated)') as HTMLInputElement).value).toBe('refund, money back');
      fireEvent.change(within(form).getByLabelText('Rule name'), { target: { value: 'Refunds → billing' } });
      fireEvent.click(within(form).getByRole('button', { name: 'Save rule' }));
      expect((await within(form).findByRole('alert')).textContent).toBe('conditions.idleMinutes is required for event conversation.idle');
      const patch = calls.find((c) => c.init.method === 'PATCH')!;
      expect(patch.url).toBe(`/api/v1/automation/rules/${RULE.id}`);
      expect(body(patch)).toEqual({ name: 'Refunds → billing', event: 'message.received', conditions: { keywords: ['refund', 'money back'], priorities: ['high'] }, actions: RULE.actions });
      fireEvent.click(within(form).getByRole('button', { name: 'Cancel editing' }));
      expect(screen.getByRole('button', { name: 'Add rule' })).toBeTruthy();
    } finally {
      LISTS['/api/v1/automation/rules'] = saved;
    }
  });

  it('edits and deletes a macro (PATCH / DELETE after a confirmation); a rule is deleted the same way', async () => {
    const calls = stub(() => ({ status: 200, body: {} }));
    const confirm = window.confirm;
    window.confirm = () => true;
    try {
      renderWithApp(<Automation />, { me: MANAGER });
      fireEvent.click(await screen.findByRole('button', { name: 'Edit macro Escalate' }));
      const form = formOf('Save macro');
      expect((within(form).getByLabelText('Macro name') as HTMLInputElement).value).toBe('Escalate');
      fireEvent.change(within(form).getByLabelText('Macro name'), { target: { value: 'Escalate now' } });
      fireEvent.click(within(form).getByRole('button', { name: 'Save macro' }));
      await waitFor(() => expect(calls.some((c) => c.init.method === 'PATCH')).toBe(true));
      const patch = calls.find((c) => c.init.method === 'PATCH')!;
      expect(patch.url).toBe('/api/v1/macros/m1');
      expect(body(patch)).toEqual({ name: 'Escalate now', shared: true, steps: [{ type: 'setPriority', priority: 'urgent' }, { type: 'note', body: 'escalated' }] });
      await screen.findByRole('button', { name: 'Add macro' }); // back to adding
      fireEvent.click(within(screen.getByText('Escalate').closest('tr')!).getByRole('button', { name: 'Delete' }));
      fireEvent.click(within(screen.getByText('Refunds to billing').closest('tr')!).getByRole('button', { name: 'Delete' }));
      await waitFor(() => expect(calls.filter((c) => c.init.method === 'DELETE').map((c) => c.url)).toEqual(['/api/v1/macros/m1', `/api/v1/automation/rules/${RULE.id}`]));
    } finally {
      window.confirm = confirm;
    }
  });

  it('offers "Send a canned reply" in rules (team responses only) and macros (personal ones too unless shared), and names it in the lists', async () => {
    const saved = { ...LISTS };
    const TEAM_CANNED = { id: 'c2222222-2222-4222-8222-222222222222', shortcut: 'refunded', title: 'Refund done', text: 'Hi {{contact.name}}', teamId: 't1', ownerId: null, updatedAt: '' };
    LISTS['/api/v1/canned-responses'] = [...saved['/api/v1/canned-responses'], TEAM_CANNED];
    LISTS['/api/v1/macros'] = [{ id: 'm2', name: 'Refund done', ownerId: null, steps: [{ type: 'sendCanned', cannedResponseId: TEAM_CANNED.id }], updatedAt: '' }];
    try {
      const calls = stub(() => ({ status: 201, body: {} }));
      renderWithApp(<Automation />, { me: MANAGER });
      expect(await screen.findByText('send canned reply /refunded')).toBeTruthy();
      await screen.findByText('/refunded');

      const rule = formOf('Add rule');
      fireEvent.change(within(rule).getByLabelText('Rule name'), { target: { value: 'Refund answer' } });
      fireEvent.change(within(rule).getByLabelText('Action 1 type'), { target: { value: 'sendCanned' } });
      const pick = within(rule).getByLabelText('Action 1 canned response') as HTMLSelectElement;
      // a rule sends as the system: only team responses are offered, not the manager's personal /thanks
      expect([...pick.options].map((o) => o.textContent)).toEqual(['Choose…', '/refunded — Refund done']);
      fireEvent.change(pick, { target: { value: TEAM_CANNED.id } });
      fireEvent.click(within(rule).getByRole('button', { name: 'Add rule' }));
      await waitFor(() => expect(calls.some((c) => c.url.endsWith('/api/v1/automation/rules') && c.init.method === 'POST')).toBe(true));
      expect(body(calls.find((c) => c.url.endsWith('/api/v1/automation/rules') && c.init.method === 'POST')!)).toEqual({
        name: 'Refund answer',
        event: 'message.received',
        conditions: {},
        actions: [{ type: 'sendCanned', cannedResponseId: TEAM_CANNED.id }],
      });

      const macro = formOf('Add macro');
      fireEvent.change(within(macro).getByLabelText('Macro name'), { target: { value: 'Thanks' } });
      fireEvent.change(within(macro).getByLabelText('Step 1 type'), { target: { value: 'sendCanned' } });
      const step = within(macro).getByLabelText('Step 1 canned response') as HTMLSelectElement;
      expect([...step.options].map((o) => o.textContent)).toEqual(['Choose…', '/thanks — Thank you', '/refunded — Refund done']);
      fireEvent.change(step, { target: { value: 'c1' } });
      fireEvent.click(within(macro).getByRole('button', { name: 'Add macro' }));
      await waitFor(() => expect(calls.some((c) => c.url.endsWith('/api/v1/macros') && c.init.method === 'POST')).toBe(true));
      expect(body(calls.find((c) => c.url.endsWith('/api/v1/macros') && c.init.method === 'POST')!)).toEqual({ name: 'Thanks', shared: false, steps: [{ type: 'sendCanned', cannedResponseId: 'c1' }] });
    } finally {
      Object.assign(LISTS, saved);
    }
  });
  it('offers "Assign to agent" in the rule editor: active people (no viewers) of the rule’s team, named in the list; saved as {type: assign, agentId}', async () => {
    const saved = LISTS['/api/v1/automation/rules'];
    const person = (id: string, name: string, teamIds: string[], over: object = {}) => ({ id, email: `${id}@x.test`, name, role: 'agent' as const, teamIds, disabled: false, createdAt: '', ...over });
    const users = [
      person('u-ben', 'Ben', ['t1']),
      person('u-bea', 'Bea', ['t1']),
      person('u-carl', 'Carl', ['t2']),
      person('u-dora', 'Dora', ['t1'], { disabled: true }),
      person('u-vera', 'Vera', ['t1'], { role: 'viewer' }),
    ];
    LISTS['/api/v1/automation/rules'] = [{ ...RULE, name: 'VIPs to Ben', conditions: { teamIds: ['t1'], keywords: ['vip'] }, actions: [{ type: 'assign', agentId: 'u-ben' }] }];
    try {
      const calls = stub(() => ({ status: 200, body: {} }));
      renderWithApp(<Automation />, { me: MANAGER, users });
      const row = (await screen.findByText('VIPs to Ben')).closest('tr')!;
      expect(within(row).getByText('assign to Ben')).toBeTruthy();

      // a new rule (any team): every active person who may own conversations
      const add = formOf('Add rule');
      fireEvent.change(within(add).getByLabelText('Action 1 type'), { target: { value: 'assign' } });
      const names = (select: HTMLElement) => [...(select as HTMLSelectElement).options].map((o) => o.textContent);
      expect(names(within(add).getByLabelText('Action 1 agent'))).toEqual(['Choose…', 'Bea', 'Ben', 'Carl']);

      // editing the team-1 rule: only team 1's people; the pick is saved
      fireEvent.click(screen.getByRole('button', { name: 'Edit rule VIPs to Ben' }));
      const form = formOf('Save rule');
      const pick = within(form).getByLabelText('Action 1 agent') as HTMLSelectElement;
      expect(names(pick)).toEqual(['Choose…', 'Bea', 'Ben']);
      expect(pick.value).toBe('u-ben');
      fireEvent.change(pick, { target: { value: 'u-bea' } });
      fireEvent.click(within(form).getByRole('button', { name: 'Save rule' }));
      await waitFor(() => expect(calls.some((c) => c.init.method === 'PATCH')).toBe(true));
      expect(body(calls.find((c) => c.init.method === 'PATCH')!)).toMatchObject({ conditions: { teamIds: ['t1'], keywords: ['vip'] }, actions: [{ type: 'assign', agentId: 'u-bea' }] });
    } finally {
      LISTS['/api/v1/automation/rules'] = saved;
    }
  });
});
