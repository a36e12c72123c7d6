import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { waitFor } from '@app/testing';
import { textWebhook } from '../support/webhooks';
import { ADMIN, APP_SECRET, PASSWORD, Stack, VERIFY_TOKEN } from '../support/stack';

/**
 * Who may read and change what, through the real gateway, routing and ingest (real PostgreSQL and NATS).
 * Sales owns the victim conversation; a Support agent attacks it. Every text of the victim carries a canary,
 * so any answer that leaks it is caught whatever its shape. See docs/SECURITY.md for what each case proves.
 */
const SALES_NUMBER = '1555000201';
const SUPPORT_NUMBER = '1555000202';
const CANARY = `CANARY${randomUUID().slice(0, 8)}`;

describe('security: access control, sessions and input handling (gateway + routing + ingest)', () => {
  let s: Stack;
  const victim = { waId: '4915200000001', conversationId: '', contactId: '', messageId: '', version: 0 };
  let attackerConversation = '';
  let labelId = '';
  let apiKeyId = '';
  let automationRuleId = '';
  let macroId = '';
  let cannedId = '';
  let csatSettingId = '';
  let slaPolicyId = '';
  let followUpRuleId = '';
  let reminderId = '';

  const auditOf = async (conversationId: string) =>
    (await s.http().get(`/api/v1/audit?conversationId=${conversationId}&limit=1000`).set(s.as('admin')).expect(200)).body.items;

  beforeAll(async () => {
    s = await Stack.start();
    await s.team('Sales');
    await s.team('Support');
    await s.http().put(`/api/v1/numbers/${SALES_NUMBER}/team`).set(s.as('admin')).send({ teamId: s.teams.Sales }).expect(200);
    await s.http().put(`/api/v1/numbers/${SUPPORT_NUMBER}/team`).set(s.as('admin')).send({ teamId: s.teams.Support }).expect(200);
    await s.user('sales', 'agent', ['Sales']);
    await s.user('support', 'agent', ['Support']);
    await s.user('supportmgr', 'manager', ['Support']);

    await s.webhook(textWebhook({ phoneNumberId: SALES_NUMBER, from: victim.waId, name: `${CANARY} contact`, text: `${CANARY} message` })).expect(200);
    const c = await s.conversationOf(victim.waId);
    victim.conversationId = c.id;
    victim.contactId = (await s.http().get(`/api/v1/contacts?q=${victim.waId}`).set(s.as('admin')).expect(200)).body.items[0].id;
    const claimed = await s.http().post(`/api/v1/conversations/${c.id}/claim`).set(s.as('sales')).send({ version: c.version }).expect(200);
    await s.http().post(`/api/v1/conversations/${c.id}/notes`).set(s.as('sales')).send({ body: `${CANARY} note` }).expect(201);
    victim.version = (await s.http().get(`/api/v1/conversations/${c.id}`).set(s.as('sales')).expect(200)).body.version;
    expect(victim.version).toBeGreaterThanOrEqual(claimed.body.version);
    victim.messageId = (await s.http().get(`/api/v1/conversations/${c.id}/messages`).set(s.as('sales')).expect(200)).body.items[0].id;

    await s.webhook(textWebhook({ phoneNumberId: SUPPORT_NUMBER, from: '4915200000002', text: 'support customer' })).expect(200);
    attackerConversation = (await s.conversationOf('4915200000002')).id;
    labelId = (await s.http().post('/api/v1/labels').set(s.as('admin')).send({ name: 'vip', color: '#aa3300' }).expect(201)).body.id;
    apiKeyId = (await s.http().post('/api/v1/api-keys').set(s.as('admin')).send({ name: 'integration', scopes: ['conversations:read'] }).expect(201)).body.id;
    // Sales-only automation objects: a team rule, a Sales agent's personal macro, a Sales canned response
    automationRuleId = (
      await s.http().post('/api/v1/automation/rules').set(s.as('admin'))
        .send({ name: 'Sales VIP', event: 'label.added', conditions: { teamIds: [s.teams.Sales] }, actions: [{ type: 'note', body: 'vip' }] })
        .expect(201)
    ).body.id;
    macroId = (await s.http().post('/api/v1/macros').set(s.as('sales')).send({ name: 'Mine', steps: [{ type: 'note', body: 'x' }] }).expect(201)).body.id;
    cannedId = (
      await s.http().post('/api/v1/canned-responses').set(s.as('admin')).send({ shortcut: 'sales-only', title: 'Sales', text: `${CANARY} canned`, teamId: s.teams.Sales }).expect(201)
    ).body.id;
    // Sales-only SLA objects and a Sales agent's reminder on the Sales conversation
    slaPolicyId = (await s.http().post('/api/v1/sla/policies').set(s.as('admin')).send({ name: `${CANARY} policy`, teamId: s.teams.Sales, firstResponseMinutes: 15 }).expect(201)).body.id;
    followUpRuleId = (await s.http().post('/api/v1/sla/follow-up-rules').set(s.as('admin')).send({ teamId: s.teams.Sales, afterMinutes: 60, action: 'remind-owner' }).expect(201)).body.id;
    reminderId = (await s.http().post(`/api/v1/conversations/${c.id}/reminders`).set(s.as('sales')).send({ inMinutes: 60, note: `${CANARY} reminder` }).expect(201)).body.id;
    csatSettingId = (await s.http().put('/api/v1/csat/settings').set(s.as('admin')).send({ teamId: s.teams.Sales, question: `${CANARY} survey` }).expect(200)).body.id;
  }, 120_000);
  afterAll(() => s?.stop());

  describe('BOLA: every /api/v1 route with another team’s ids', () => {
    /** Valid bodies, so a refusal comes from the ownership check and not from validation. */
    const bodies = (v: number): Record<string, object> => ({
      'post /api/v1/conversations/{id}/claim': { version: v },
      'post /api/v1/conversations/{id}/assign': { version: v, assigneeId: s.ids.support, teamId: s.teams.Support },
      'post /api/v1/conversations/{id}/handoff': { version: v, toTeamId: s.teams.Support, note: 'mine now' },
      'post /api/v1/conversations/{id}/status': { version: v, status: 'resolved' },
      'post /api/v1/conversations/{id}/takeover': { version: v },
      'post /api/v1/conversations/{id}/bot': { version: v },
      'post /api/v1/conversations/{id}/handover': { version: v, teamId: s.teams.Support, note: 'mine now' },
      'post /api/v1/conversations/{id}/take-back': { version: v },
      'post /api/v1/conversations/{id}/labels': { version: v, labels: ['vip'] },
      'post /api/v1/conversations/{id}/priority': { version: v, priority: 'urgent' },
      'post /api/v1/conversations/{id}/notes': { body: 'sneaky note' },
      'post /api/v1/conversations/{id}/read': {},
      'post /api/v1/conversations/{id}/messages': { text: 'sneaky reply' },
      'patch /api/v1/users/{id}': { role: 'agent', teamIds: [s.teams.Support] },
      'patch /api/v1/teams/{id}': { name: 'Hijacked' },
      'patch /api/v1/labels/{id}': { name: 'hijacked' },
      'put /api/v1/numbers/{phoneNumberId}/team': { teamId: s.teams.Support },
      'put /api/v1/numbers/{phoneNumberId}/bot': { apiKeyId: apiKeyId },
      'post /api/v1/templates/sync': {},
      'patch /api/v1/contacts/{id}': { name: 'hijacked', labels: ['vip'] },
      'post /api/v1/conversations/{id}/reminders': { inMinutes: 30 },
      'put /api/v1/teams/{id}/routing': { strategy: 'round_robin' },
      'patch /api/v1/automation/rules/{id}': { enabled: false },
      'patch /api/v1/sla/policies/{id}': { firstResponseMinutes: 1 },
      'post /api/v1/agents/{id}/reassign-all': { toTeamQueue: true },
      // creating in the other team's name
      'post /api/v1/sla/policies': { name: 'sneaky policy', teamId: s.teams.Sales, firstResponseMinutes: 1 },
      'post /api/v1/sla/follow-up-rules': { teamId: s.teams.Sales, afterMinutes: 1, action: 'remind-owner' },
      'post /api/v1/canned-responses': { shortcut: 'sneaky', title: 'Sneaky', text: 'sneaky', teamId: s.teams.Sales },
      'post /api/v1/macros/{id}/run': { conversationId: victim.conversationId },
      'patch /api/v1/macros/{id}': { name: 'hijacked', steps: [{ type: 'note', body: 'x' }] },
      'post /api/v1/canned-responses/{id}/render': { conversationId: victim.conversationId },
      'put /api/v1/csat/settings': { teamId: s.teams.Sales, question: 'sneaky survey' },
      'post /api/v1/messages': { to: victim.waId, phoneNumberId: SALES_NUMBER, conversationId: victim.conversationId, type: 'text', text: { body: 'x' } },
    });
    /** Routes any signed-in person may call on these ids by design (directory reads, own session, system state). */
    const openByDesign = new Set([
      'get /api/v1/users', 'get /api/v1/users/{id}', 'get /api/v1/teams', 'get /api/v1/teams/{id}', 'get /api/v1/labels',
      'get /api/v1/labels/{id}', 'get /api/v1/me', 'get /api/v1/conversations', 'get /api/v1/system/services',
      'get /api/v1/system/services/{name}', 'post /api/v1/auth/logout',
      // lists of what the caller may see (contacts of their visible conversations)
      'get /api/v1/contacts', 'get /api/v1/contacts/export',
    ]);
    /** Query strings that make a read route valid, so a refusal comes from the scope check. */
    const queries = (): Record<string, string> => {
      const range = `from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z&teamId=${s.teams.Sales}`;
      return { 'get /api/v1/reports/{kind}': range, 'get /api/v1/reports/{kind}/raw': range, 'get /api/v1/templates': `phoneNumberId=${SALES_NUMBER}` };
    };
    const paramFor = (path: string, name: string): string => {
      const before = path.split('/{')[0].split('/').pop();
      if (name === 'kind') return 'volume';
      if (name === 'phoneNumberId') return SALES_NUMBER;
      if (name === 'messageId' || before === 'media') return victim.messageId;
      if (name === 'name') return 'ingest';
      if (before === 'users') return s.ids.sales;
      if (before === 'teams') return s.teams.Sales;
      if (before === 'labels') return labelId;
      if (before === 'api-keys') return apiKeyId;
      if (before === 'contacts') return victim.contactId;
      if (path.startsWith('/api/v1/automation/rules/')) return automationRuleId;
      if (before === 'macros') return macroId;
      if (before === 'canned-responses') return cannedId;
      if (path.startsWith('/api/v1/csat/settings/')) return csatSettingId;
      if (path.startsWith('/api/v1/sla/policies/')) return slaPolicyId;
      if (path.startsWith('/api/v1/sla/follow-up-rules/')) return followUpRuleId;
      if (name === 'reminderId') return reminderId;
      return victim.conversationId; // conversations and any route added later: the most sensitive id
    };

    it.each([
      ['agent', 'support'],
      ['manager', 'supportmgr'],
    ])('leaks nothing and changes nothing for a Support %s, on every route of the OpenAPI document', async (_role, attacker) => {
      const doc = (await s.http().get('/api/docs-json').expect(200)).body;
      const routes: [string, string][] = [];
      for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
        if (!path.startsWith('/api/v1/') || /\/auth\/(login|refresh)$/.test(path)) continue;
        for (const method of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) routes.push([method, path]);
      }
      // the enumeration itself must see the routes that matter (a broken document would make this test vacuous)
      expect(routes.map(([m, p]) => `${m} ${p}`)).toEqual(
        expect.arrayContaining([
          'get /api/v1/conversations/{id}', 'post /api/v1/conversations/{id}/messages', 'post /api/v1/conversations/{id}/attachments',
          'get /api/v1/media/{messageId}', 'patch /api/v1/users/{id}', 'patch /api/v1/macros/{id}', 'delete /api/v1/macros/{id}',
          'delete /api/v1/automation/rules/{id}',
        ]),
      );
      const auditBefore = (await auditOf(victim.conversationId)).length;
      const sendsBefore = s.sends.length;
      const body = bodies(victim.version);
      const results: string[] = [];
      const violations: string[] = [];
      for (const [method, path] of routes) {
        if (path.endsWith('/auth/logout')) continue; // would end the attacker's own session
        const url = path.replace(/\{(\w+)\}/g, (_, n) => encodeURIComponent(paramFor(path, n)));
        const key = `${method} ${path}`;
        const query = queries()[key];
        const r = await (s.http() as any)[method](query ? `${url}?${query}` : url).set(s.as(attacker)).set('Idempotency-Key', `bola-${randomUUID()}`).send(body[key] ?? {});
        const seen = `${key} → ${r.status}`;
        results.push(seen);
        if ((r.text ?? '').includes(CANARY)) violations.push(`${seen}: leaks the Sales canary`);
        if (r.status >= 500) violations.push(`${seen}: server error`);
        // a route on another team's id is refused; lists of one's own scope (no id in the path) may answer
        else if (path.includes('{') && !openByDesign.has(key) && ![403, 404].includes(r.status)) violations.push(`${seen}: not refused (${r.text.slice(0, 120)})`);
        else if (!path.includes('{') && method !== 'get' && !openByDesign.has(key) && ![400, 403, 404].includes(r.status)) violations.push(`${seen}: accepted`);
      }
      expect(violations).toEqual([]);
      expect(results.length).toBeGreaterThanOrEqual(25);
      // nothing happened to the victim's conversation, user, team or number
      expect((await auditOf(victim.conversationId)).length).toBe(auditBefore);
      expect(s.sends.length).toBe(sendsBefore);
      const seen = (await s.http().get(`/api/v1/conversations/${victim.conversationId}`).set(s.as('sales')).expect(200)).body;
      expect(seen).toMatchObject({ version: victim.version, owner: { id: s.ids.sales }, team: { id: s.teams.Sales }, status: 'open' });
      expect((await s.http().get(`/api/v1/users/${s.ids.sales}`).set(s.as('admin')).expect(200)).body.teamIds).toEqual([s.teams.Sales]);
      expect((await s.http().get(`/api/v1/teams/${s.teams.Sales}`).set(s.as('admin')).expect(200)).body.name).toBe('Sales');
      // nor to the Sales team's SLA policy, follow-up rule, or the Sales agent's reminder
      const policies = (await s.http().get(`/api/v1/sla/policies?teamId=${s.teams.Sales}`).set(s.as('admin')).expect(200)).body.items;
      expect(policies).toEqual([expect.objectContaining({ id: slaPolicyId, firstResponseMinutes: 15 })]);
      const rules = (await s.http().get(`/api/v1/sla/follow-up-rules?teamId=${s.teams.Sales}`).set(s.as('admin')).expect(200)).body.items;
      expect(rules.map((r: { id: string }) => r.id)).toEqual([followUpRuleId]);
      const reminders = (await s.http().get(`/api/v1/conversations/${victim.conversationId}/reminders`).set(s.as('sales')).expect(200)).body.items;
      expect(reminders).toEqual([expect.objectContaining({ id: reminderId, note: `${CANARY} reminder` })]);
    }, 60_000);

    it('a Support manager is refused on the Sales conversation, its audit, search hits and the Sales team’s reports', async () => {
      await s.http().get(`/api/v1/conversations/${victim.conversationId}`).set(s.as('supportmgr')).expect(404);
      await s.http().get(`/api/v1/conversations/${victim.conversationId}/timeline`).set(s.as('supportmgr')).expect(404);
      await s.http().post(`/api/v1/conversations/${victim.conversationId}/takeover`).set(s.as('supportmgr')).send({ version: victim.version }).expect(404);
      const audit = await s.http().get(`/api/v1/audit?conversationId=${victim.conversationId}`).set(s.as('supportmgr')).expect(200);
      expect(audit.text).not.toContain(CANARY);
      expect(audit.body.items).toEqual([]);
      const found = await s.http().get(`/api/v1/conversations?q=${CANARY}`).set(s.as('supportmgr')).expect(200);
      expect(found.body.items).toEqual([]);
      // reports and their raw rows for the other team: refused, never figures
      for (const path of ['/api/v1/reports/volume', '/api/v1/reports/first-response/raw']) {
        const rep = await s.http().get(`${path}?from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z&teamId=${s.teams.Sales}`).set(s.as('supportmgr'));
        expect(`${path} → ${rep.status}`).toMatch(/ → 40[34]$/);
        expect(rep.text).not.toContain(victim.conversationId);
      }
      const positive = await s.http().get(`/api/v1/conversations?q=${CANARY}`).set(s.as('sales')).expect(200);
      expect(positive.body.items.map((i: { id: string }) => i.id)).toEqual([victim.conversationId]);
    });
  });

  describe('bots', () => {
    it('a bot cannot take a person’s conversation, hand over or reply in one it does not hold; people and plain keys cannot act as bots', async () => {
      const key = async (name: string, scopes: string[]) => ({ 'X-Api-Key': (await s.http().post('/api/v1/api-keys').set(s.as('admin')).send({ name, scopes }).expect(201)).body.key as string });
      const bot = await key('rogue bot', ['bot', 'conversations:read', 'messages:send']);
      const plain = await key('plain', ['conversations:read', 'conversations:write', 'messages:send']);
      const url = (path: string) => `/api/v1/conversations/${victim.conversationId}/${path}`;
      const auditBefore = (await auditOf(victim.conversationId)).length;
      const sendsBefore = s.sends.length;
      const refused = async (who: Record<string, string>, path: string, status: number, message: RegExp, body: object = {}) => {
        const r = await s.http().post(url(path)).set(who).set('Idempotency-Key', `bot-${randomUUID()}`).send(body);
        expect(`${path} → ${r.status} ${r.body.message}`).toMatch(new RegExp(`→ ${status} .*${message.source}`));
      };
      await refused(bot, 'bot', 409, /owned by/);
      await refused(bot, 'handover', 409, /not held by a bot/, { teamId: s.teams.Support, note: 'summary' });
      await refused(bot, 'messages', 409, /owned by/, { text: 'from the bot' });
      await refused(bot, 'take-back', 403, /needs conversations:write/, { version: victim.version }); // a bot key carries no write scope
      for (const who of [s.as('sales'), s.as('admin'), plain]) {
        await refused(who, 'bot', 403, /needs bot/);
        await refused(who, 'handover', 403, /needs bot/, { teamId: s.teams.Support, note: 'summary' });
      }
      await refused(s.as('admin'), 'take-back', 409, /not held by a bot/, { version: victim.version });
      expect((await auditOf(victim.conversationId)).length).toBe(auditBefore);
      expect(s.sends.length).toBe(sendsBefore);
    });

    it('a bot key cannot carry write or admin scopes: creation refuses them, and a key stored with them gets no such powers', async () => {
      for (const extra of ['conversations:write', 'contacts:write', 'webhooks:manage', 'admin']) {
        const r = await s.http().post('/api/v1/api-keys').set(s.as('admin')).send({ name: 'greedy bot', scopes: ['bot', 'conversations:read', extra] });
        expect(`${r.status} ${r.body.message}`).toMatch(new RegExp(`^400 scopes: a bot key .* not ${extra} \\(bots act only on the conversations they hold\\)`));
      }
      const created = (await s.http().post('/api/v1/api-keys').set(s.as('admin')).send({ name: 'old bot', scopes: ['bot', 'conversations:read', 'messages:send'] }).expect(201)).body;
      // a key created before the rule, with the powers of a person
      await s.ds.query(`UPDATE gateway.api_key SET scopes = $2 WHERE id = $1`, [created.id, ['bot', 'conversations:read', 'conversations:write', 'messages:send', 'contacts:write', 'admin']]);
      const bot = { 'X-Api-Key': created.key as string };
      expect((await s.http().get('/api/v1/me').set(bot).expect(200)).body).toMatchObject({ kind: 'bot', scopes: ['bot', 'conversations:read', 'messages:send'] });
      const auditBefore = (await auditOf(victim.conversationId)).length;
      const url = (path: string) => `/api/v1/conversations/${victim.conversationId}/${path}`;
      for (const [path, body] of [
        ['assign', { teamId: s.teams.Support, version: victim.version }],
        ['status', { status: 'resolved', version: victim.version }],
        ['handoff', { toTeamId: s.teams.Support, note: 'x', version: victim.version }],
        ['claim', { version: victim.version }],
      ] as const) {
        const r = await s.http().post(url(path)).set(bot).send(body);
        expect(`${path} → ${r.status} ${r.body.message}`).toMatch(new RegExp(`^${path} → 403 .*conversations:write`));
      }
      await s.http().post('/api/v1/api-keys').set(bot).send({ name: 'x', scopes: ['conversations:read'] }).expect(403);
      expect((await auditOf(victim.conversationId)).length).toBe(auditBefore);
    });
  });

  describe('WebSocket', () => {
    const open = (token: string) =>
      new Promise<{ ws: WebSocket; frames: any[] }>((resolve, reject) => {
        const ws = new WebSocket(`ws://${s.base}/api/v1/realtime?access_token=${token}`);
        const frames: any[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(String(d))));
        ws.on('open', () => resolve({ ws, frames }));
        ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.on('error', reject);
      });

    it('refuses a connection without a valid token', async () => {
      await expect(open('sba_not-a-token')).rejects.toThrow(/HTTP 401/);
    });

    it('never sends another team’s conversation events, and refuses presence in its room', async () => {
      const attacker = await open(s.tokens.support);
      const owner = await open(s.tokens.sales);
      try {
        attacker.ws.send(JSON.stringify({ type: 'presence', conversationId: victim.conversationId, state: 'viewing' }));
        await waitFor(() => attacker.frames.find((f) => f.type === 'error'), { what: 'presence refused' });
        expect(attacker.frames.find((f) => f.type === 'error').message).toBe(`conversation ${victim.conversationId} not found`);
        // the customer writes again: the owner's socket gets it (positive control), the attacker's never does
        await s.webhook(textWebhook({ phoneNumberId: SALES_NUMBER, from: victim.waId, name: `${CANARY} contact`, text: `${CANARY} again` })).expect(200);
        await waitFor(() => owner.frames.find((f) => f.type === 'event' && f.conversationId === victim.conversationId), { what: 'owner sees the event', timeoutMs: 20_000 });
        expect(owner.frames.some((f) => f.type === 'presence')).toBe(false); // the refused presence reached nobody
        await new Promise((r) => setTimeout(r, 300));
        const received = attacker.frames.filter((f) => f.type !== 'error' && f.type !== 'ready');
        expect(JSON.stringify(received)).not.toContain(victim.conversationId);
        expect(JSON.stringify(attacker.frames)).not.toContain(CANARY);
      } finally {
        attacker.ws.terminate();
        owner.ws.terminate();
      }
    });
  });

  describe('role escalation and mass assignment', () => {
    it('an agent cannot edit itself into an admin, another team or a new password', async () => {
      for (const body of [{ role: 'admin' }, { teamIds: [s.teams.Support, s.teams.Sales] }, { password: 'new-password-123456' }]) {
        await s.http().patch(`/api/v1/users/${s.ids.sales}`).set(s.as('sales')).send(body).expect(403);
      }
      await s.http().patch(`/api/v1/users/${s.ids.supportmgr}`).set(s.as('supportmgr')).send({ role: 'admin' }).expect(403);
      const me = (await s.http().get('/api/v1/me').set(s.as('sales')).expect(200)).body;
      expect(me).toMatchObject({ role: 'agent', teamIds: [s.teams.Sales] });
      expect(me.scopes).not.toContain('admin');
      await s.http().post('/api/v1/users').set(s.as('sales')).send({ email: 'x@example.test', name: 'x', password: PASSWORD, role: 'admin' }).expect(403);
      await s.http().post('/api/v1/api-keys').set(s.as('sales')).send({ name: 'mine', scopes: ['admin'] }).expect(403);
    });

    it.each([
      ['a user with a chosen id, hash and flags', 'post', '/api/v1/users', () => ({ email: 'mass@example.test', name: 'M', password: PASSWORD, role: 'agent', id: randomUUID(), passwordHash: 'x', disabledAt: null, isAdmin: true })],
      ['a note written in someone else’s name', 'post', () => `/api/v1/conversations/${attackerConversation}/notes`, () => ({ body: 'hi', authorId: s.ids.sales, createdAt: '2000-01-01T00:00:00Z' })],
      ['a claim for another owner', 'post', () => `/api/v1/conversations/${attackerConversation}/claim`, () => ({ version: 1, ownerId: s.ids.sales })],
      ['an API key with a chosen hash', 'post', '/api/v1/api-keys', () => ({ name: 'k', scopes: ['conversations:read'], keyHash: '00', revokedAt: null })],
      ['a user update that sets the email', 'patch', () => `/api/v1/users/${s.ids.support}`, () => ({ name: 'S', email: 'taken@example.test' })],
    ])('refuses %s with 400 naming the field, and stores nothing', async (_what, method, path, body) => {
      const auditBefore = (await auditOf(attackerConversation)).length;
      const url = typeof path === 'function' ? path() : path;
      const who = url.includes('/conversations/') ? 'support' : 'admin';
      const r = await (s.http() as any)[method](url).set(s.as(who)).send(body()).expect(400);
      expect(r.body.message).toMatch(/should not exist/);
      expect(await s.sql(`SELECT 1 FROM gateway.app_user WHERE email IN ('mass@example.test', 'taken@example.test')`)).toEqual([]);
      expect(await s.sql(`SELECT 1 FROM gateway.api_key WHERE name = 'k'`)).toEqual([]);
      expect((await auditOf(attackerConversation)).length).toBe(auditBefore);
    });
  });

  describe('sessions and tokens', () => {
    it('logout revokes the access and the refresh token at once', async () => {
      const pair = await s.login('support');
      await s.http().post('/api/v1/auth/logout').set('Authorization', `Bearer ${pair.accessToken}`).expect(204);
      await s.http().get('/api/v1/me').set('Authorization', `Bearer ${pair.accessToken}`).expect(401);
      await s.http().post('/api/v1/auth/refresh').send({ refreshToken: pair.refreshToken }).expect(401);
      await s.login('support');
    });

    it('an expired access token is refused; so is an expired refresh token', async () => {
      const pair = await s.login('sales');
      await s.http().get('/api/v1/me').set('Authorization', `Bearer ${pair.accessToken}`).expect(200);
      const [{ id }] = await s.sql(`SELECT id FROM gateway.auth_session WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1`, [s.ids.sales]);
      await s.sql(`UPDATE gateway.auth_session SET access_expires_at = clock_timestamp() - interval '1 second' WHERE id = $1`, [id]);
      await s.http().get('/api/v1/me').set('Authorization', `Bearer ${pair.accessToken}`).expect(401);
      await s.sql(`UPDATE gateway.auth_session SET refresh_expires_at = clock_timestamp() - interval '1 second' WHERE id = $1`, [id]);
      await s.http().post('/api/v1/auth/refresh').send({ refreshToken: pair.refreshToken }).expect(401);
      await s.login('sales');
    });

    it('a refresh token works once; reusing it revokes the whole session', async () => {
      const first = await s.login('sales');
      const second = (await s.http().post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }).expect(200)).body;
      await s.http().get('/api/v1/me').set('Authorization', `Bearer ${second.accessToken}`).expect(200);
      await s.http().post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }).expect(401);
      await s.http().get('/api/v1/me').set('Authorization', `Bearer ${second.accessToken}`).expect(401);
      await s.http().post('/api/v1/auth/refresh').send({ refreshToken: second.refreshToken }).expect(401);
      await s.login('sales');
    });

    it('a revoked API key stops working at once', async () => {
      const created = (await s.http().post('/api/v1/api-keys').set(s.as('admin')).send({ name: 'short-lived', scopes: ['conversations:read'] }).expect(201)).body;
      await s.http().get('/api/v1/conversations').set('X-Api-Key', created.key).expect(200);
      await s.http().delete(`/api/v1/api-keys/${created.id}`).set(s.as('admin')).expect((r) => expect([200, 204]).toContain(r.status));
      await s.http().get('/api/v1/conversations').set('X-Api-Key', created.key).expect(401);
    });

    it('login brute force: throttled after the limit (even the right password), per email', async () => {
      await s.user('target', 'agent', ['Sales']);
      const login = (password: string) => s.http().post('/api/v1/auth/login').send({ email: 'target@example.test', password });
      for (let i = 0; i < 5; i++) await login(`guess-${i}`).expect(401);
      const throttled = await login(PASSWORD).expect(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(throttled.body.message).toMatch(/too many failed logins/);
      expect(throttled.body).not.toHaveProperty('accessToken');
    });
  });

  describe('injection', () => {
    it.each([
      `' OR '1'='1`,
      `%' OR 1=1 --`,
      `'; DROP TABLE ingest.message; --`,
      `") UNION SELECT password_hash FROM gateway.app_user --`,
      `\\' OR 1=1 /*`,
    ])('search q=%s finds nothing, errors nothing, drops nothing', async (q) => {
      const r = await s.http().get('/api/v1/conversations').query({ q, view: 'all' }).set(s.as('admin')).expect(200);
      expect(r.body.items).toEqual([]);
      expect(r.text).not.toMatch(/\$2[aby]\$|scrypt|argon/);
      expect((await s.sql(`SELECT count(*)::int AS n FROM ingest.message`))[0].n).toBeGreaterThan(0);
    });

    it.each([
      ['status', `open' OR '1'='1`],
      ['teamId', `${randomUUID()}' OR '1'='1`],
      ['assigneeId', `x') OR true --`],
      ['phoneNumberId', `1' OR '1'='1`],
      ['cursor', Buffer.from(`{"k":"x' OR 1=1 --"}`).toString('base64url')],
      ['limit', '1; DROP TABLE routing.work_item'],
      ['label', `vip' OR '1'='1`],
    ])('filter %s=%s is refused with 400 or matches nothing, never 500', async (name, value) => {
      const r = await s.http().get('/api/v1/conversations').query({ [name]: value, view: 'all' }).set(s.as('support'));
      expect(r.status).toBeLessThan(500);
      if (r.status === 200) expect(r.body.items.map((i: { id: string }) => i.id)).not.toContain(victim.conversationId);
      else expect(r.status).toBe(400);
    });
  });

  describe('media download', () => {
    it.each(['..%2F..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', '..', `${randomUUID()}%2F..%2F..`, 'ab%00cd'])(
      'GET /api/v1/media/%s is refused without touching the file system',
      async (id) => {
        const r = await s.http().get(`/api/v1/media/${id}`).set(s.as('sales'));
        expect([400, 404]).toContain(r.status);
        expect(r.text).not.toMatch(/root:|\/bin\/(ba)?sh/);
      },
    );
  });

  describe('secrets', () => {
    it('never appear in answers or logs: passwords, tokens, API keys, app secret, verify token', async () => {
      const from = s.logs.lines.length;
      const answers: string[] = [];
      const keep = (r: { text: string; headers: Record<string, string> }) => answers.push(r.text, JSON.stringify(r.headers));
      const wrong = 'Wrong-Password-Secret-42';
      keep(await s.http().post('/api/v1/auth/login').send({ email: ADMIN.email, password: wrong }));
      const pair = (await s.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body;
      keep(await s.http().get('/api/v1/me').set('Authorization', `Bearer ${pair.accessToken}x`));
      keep(await s.http().post('/api/v1/auth/refresh').send({ refreshToken: `${pair.refreshToken}x` }));
      keep(await s.http().post('/api/v1/users').set('Authorization', `Bearer ${pair.accessToken}`).send({ email: 'bad', name: 'n', password: 'short-secret', role: 'agent' }));
      const key = (await s.http().post('/api/v1/api-keys').set(s.as('admin')).send({ name: 'secret-test', scopes: ['conversations:read'] }).expect(201)).body.key;
      keep(await s.http().get('/api/v1/conversations?view=nope').set('X-Api-Key', key));
      keep(await s.http().get('/api/v1/conversations').set('X-Api-Key', `${key}x`));
      keep(await s.webhook('{"object":"whatsapp_business_account","entry":[]}', 'sha256=' + '0'.repeat(64)));
      keep(await s.http().get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': `${VERIFY_TOKEN}x`, 'hub.challenge': '1' }));
      keep(await s.http().post(`/api/v1/conversations/${attackerConversation}/messages`).set('Authorization', `Bearer ${pair.accessToken}`).send({ text: 'no key' }));
      const logs = s.logs.lines.slice(from).join('\n');
      const all = `${answers.join('\n')}\n${logs}`;
      for (const secret of [wrong, ADMIN.password, PASSWORD, 'short-secret', pair.accessToken, pair.refreshToken, key, APP_SECRET, VERIFY_TOKEN]) {
        expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
      }
      expect(answers.join('\n')).not.toMatch(/at \w+ \(|node_modules|QueryFailedError|SELECT |INSERT /); // no stacks or SQL
    });
  });

  describe('webhook dead letters', () => {
    it('GET /api/v1/system/webhook-rejections is for admins only (customer data): newest first, limited', async () => {
      const first = `{"object":"whatsapp_business_account","entry":{"from":"${victim.waId}","text":"${CANARY} refused"}}`;
      const second = `{"object":"whatsapp_business_account","entry":[],"cut":"${CANARY}`;
      await s.webhook(first).expect(400);
      await s.webhook(second).expect(400);
      await s.webhook(second, 'sha256=' + '0'.repeat(64)).expect(401); // unsigned: never a dead letter
      const url = '/api/v1/system/webhook-rejections';
      await s.http().get(url).expect(401);
      const readOnlyKey = (await s.http().post('/api/v1/api-keys').set(s.as('admin')).send({ name: 'reader', scopes: ['conversations:read', 'audit:read'] }).expect(201)).body.key;
      for (const r of [
        await s.http().get(url).set(s.as('support')),
        await s.http().get(url).set(s.as('sales')),
        await s.http().get(url).set(s.as('supportmgr')),
        await s.http().get(url).set('X-Api-Key', readOnlyKey),
      ]) {
        expect(r.status).toBe(403);
        expect(r.text).not.toContain(CANARY);
      }
      const all = (await s.http().get(`${url}?limit=200`).set(s.as('admin')).expect(200)).body.items;
      expect(all.slice(0, 2)).toEqual([
        expect.objectContaining({ httpStatus: 400, reason: 'body is not JSON', body: second, byteLength: second.length, bodyTruncated: false, appIndex: 0 }),
        expect.objectContaining({ httpStatus: 400, reason: 'webhook has no entry array', body: first }),
      ]);
      expect(all.filter((l: { body: string }) => l.body.includes(CANARY))).toHaveLength(2);
      const one = (await s.http().get(`${url}?limit=1`).set(s.as('admin')).expect(200)).body.items;
      expect(one.map((l: { body: string }) => l.body)).toEqual([second]);
      await s.http().get(`${url}?limit=0`).set(s.as('admin')).expect(400);
      await s.http().get(`${url}?limit=201`).set(s.as('admin')).expect(400);
    });
  });

  describe('audit trail', () => {
    it('has no route that changes it, and the database refuses UPDATE and DELETE', async () => {
      const before = await auditOf(victim.conversationId);
      expect(before.length).toBeGreaterThan(0);
      for (const method of ['post', 'put', 'patch', 'delete'] as const) {
        const r = await (s.http() as any)[method](`/api/v1/audit/${before[0].id}`).set(s.as('admin')).send({ action: 'nothing happened' });
        expect(r.status).toBe(404);
        const r2 = await (s.http() as any)[method]('/api/v1/audit').set(s.as('admin')).send({ action: 'nothing happened' });
        expect(r2.status).toBe(404);
      }
      await expect(s.sql(`UPDATE routing.audit_entry SET action = 'nothing' WHERE conversation_id = $1`, [victim.conversationId])).rejects.toThrow(/append-only|not allowed|refuse/i);
      await expect(s.sql(`DELETE FROM routing.audit_entry WHERE conversation_id = $1`, [victim.conversationId])).rejects.toThrow(/append-only|not allowed|refuse/i);
      expect(await auditOf(victim.conversationId)).toEqual(before);
    });
  });
});
