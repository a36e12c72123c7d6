import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { CheckSendV1, SendMessageV1, WebhookReceivedV1, type RequestOf } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { textWebhook } from '../../../test/support/webhooks';

/**
 * The team inbox through the HTTP API with gateway, ingest and routing on real PostgreSQL and NATS.
 * Conversations arrive as real webhooks through ingest; notifications is played by a fake answering
 * SendMessageV1 on the bus (it records every send and returns the first result for a repeated key).
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const SALES_NUMBER = '1555000001';

describe('team inbox API (gateway + routing + ingest, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let ingest: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  const sends: RequestOf<typeof SendMessageV1>[] = [];
  const firstByKey = new Map<string, { sendId: string }>();

  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const teams: Record<string, string> = {};
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  async function createUser(key: string, role: string, teamNames: string[]) {
    const res = await http
      .post('/api/v1/users')
      .set(as('admin'))
      .send({ email: `${key}@example.test`, name: `User ${key}`, password: PASSWORD, role, teamIds: teamNames.map((t) => teams[t]) })
      .expect(201);
    ids[key] = res.body.id;
    tokens[key] = (await http.post('/api/v1/auth/login').send({ email: `${key}@example.test`, password: PASSWORD }).expect(200)).body.accessToken;
  }

  /** A customer writes in on the Sales number; returns the conversation as the admin sees it. */
  async function customerWrites(text = 'Hello, I need help'): Promise<{ id: string; version: number }> {
    const waId = `49${Math.floor(1e9 + Math.random() * 9e9)}`;
    const body = textWebhook({ phoneNumberId: SALES_NUMBER, from: waId, name: 'Customer <script>x</script>', text });
    await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body });
    return waitFor(
      async () => {
        const res = await http.get('/api/v1/conversations?view=unassigned&limit=200').set(as('admin'));
        return res.body.items?.find((c: { contact: { waId: string } }) => c.contact.waId === waId) ?? null;
      },
      { what: 'conversation through ingest and routing' },
    );
  }

  const audit = async (conversationId: string) =>
    (await http.get(`/api/v1/audit?conversationId=${conversationId}&limit=1000`).set(as('admin')).expect(200)).body.items.reverse();

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/inbox-e2e-${randomUUID()}` });
    ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, env.env)));
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    // notifications' check before a reply claims: this fake accepts every send
    await peer.respond(CheckSendV1, async (r) => ({ ok: true as const, duplicate: firstByKey.has(r.idempotencyKey) }));
    await peer.respond(SendMessageV1, async (r) => {
      sends.push(r);
      const first = firstByKey.get(r.idempotencyKey);
      if (first) return { sendId: first.sendId, status: 'queued' as const, waMessageId: null, duplicate: true };
      const sendId = randomUUID();
      firstByKey.set(r.idempotencyKey, { sendId });
      return { sendId, status: 'queued' as const, waMessageId: null, duplicate: false };
    });

    tokens.admin = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    for (const name of ['Sales', 'Support']) teams[name] = (await http.post('/api/v1/teams').set(as('admin')).send({ name }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${SALES_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Sales }).expect(200);
    await createUser('manager', 'manager', ['Sales']);
    await createUser('viewer', 'viewer', ['Sales']);
    await createUser('support1', 'agent', ['Support']);
    for (let i = 0; i < 20; i++) await createUser(`sales${i}`, 'agent', ['Sales']);
    // conversations may only carry labels from the catalogue
    for (const name of ['=cmd|calc', 'vip']) await http.post('/api/v1/labels').set(as('admin')).send({ name, color: '#aa3300' }).expect(201);
  }, 120_000);
  afterAll(async () => {
    await peer?.close();
    await gateway?.close();
    await routing?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  it('shows an incoming conversation with its work state, contact, team and window', async () => {
    const c = await customerWrites();
    const res = await http.get(`/api/v1/conversations/${c.id}`).set(as('sales0')).expect(200);
    expect(res.body).toMatchObject({
      id: c.id,
      version: 1,
      status: 'open',
      owner: null,
      team: { id: teams.Sales, name: 'Sales' },
      phoneNumberId: SALES_NUMBER,
      contact: { name: 'Customer <script>x</script>' },
      window: { open: true },
      lastMessageText: 'Hello, I need help',
    });
  });

  it('20 agents claim at once: exactly one wins, 19 get 409, one audit entry', async () => {
    const c = await customerWrites();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(gateway.getHttpServer()).post(`/api/v1/conversations/${c.id}/claim`).set(as(`sales${i}`)).send({ version: c.version }),
      ),
    );
    const won = results.filter((r) => r.status === 200);
    const lost = results.filter((r) => r.status === 409);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const l of lost) {
      expect(l.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
      expect(l.body.details.current).toMatchObject({ ownerId: won[0].body.ownerId, version: 2 });
    }
    const entries = (await audit(c.id)).filter((e: { action: string }) => e.action === 'conversation.claimed');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: { type: 'user', id: won[0].body.ownerId }, before: { ownerId: null }, after: { ownerId: won[0].body.ownerId } });
  });

  it('a stale version gets 409 with the current state', async () => {
    const c = await customerWrites();
    const claimed = (await http.post(`/api/v1/conversations/${c.id}/claim`).set(as('sales1')).send({ version: 1 }).expect(200)).body;
    const res = await http.post(`/api/v1/conversations/${c.id}/status`).set(as('sales1')).send({ status: 'pending', version: 1 }).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', details: { current: claimed } });
    await http.post(`/api/v1/conversations/${c.id}/status`).set(as('sales1')).send({ status: 'pending', version: claimed.version }).expect(200);
  });

  it('scopes by team and role: Support cannot read, list or act on a Sales conversation; viewers and unscoped keys change nothing', async () => {
    const c = await customerWrites();
    const notFound = await http.get(`/api/v1/conversations/${c.id}`).set(as('support1')).expect(404);
    expect(notFound.body).toEqual({ statusCode: 404, error: 'Not Found', message: `conversation ${c.id} not found` });
    await http.get(`/api/v1/conversations/${c.id}/timeline`).set(as('support1')).expect(404);
    await http.get(`/api/v1/conversations/${c.id}/messages`).set(as('support1')).expect(404);
    const msgs = await http.get(`/api/v1/conversations/${c.id}/messages`).set(as('sales0')).expect(200);
    expect(msgs.body.items.map((m: { text: string }) => m.text)).toEqual(['Hello, I need help']);
    await http.post(`/api/v1/conversations/${c.id}/claim`).set(as('support1')).send({ version: 1 }).expect(404);
    await http.post(`/api/v1/conversations/${c.id}/notes`).set(as('support1')).send({ body: 'sneaky' }).expect(404);
    await http.post(`/api/v1/conversations/${c.id}/messages`).set(as('support1')).set('Idempotency-Key', 'k1').send({ text: 'hi' }).expect(404);
    const list = await http.get('/api/v1/conversations?view=all&limit=200').set(as('support1')).expect(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(c.id);

    await http.get(`/api/v1/conversations/${c.id}`).set(as('viewer')).expect(200);
    for (const [path, body] of [
      ['claim', { version: 1 }],
      ['status', { status: 'resolved', version: 1 }],
      ['notes', { body: 'x' }],
      ['takeover', { version: 1 }],
    ] as const) {
      const r = await http.post(`/api/v1/conversations/${c.id}/${path}`).set(as('viewer')).send(body);
      expect(r.status).toBe(403);
    }
    await http.post(`/api/v1/conversations/${c.id}/messages`).set(as('viewer')).set('Idempotency-Key', 'k2').send({ text: 'hi' }).expect(403);

    const readKey = (await http.post('/api/v1/api-keys').set(as('admin')).send({ name: 'reader', scopes: ['conversations:read'] }).expect(201)).body.key;
    await http.get(`/api/v1/conversations/${c.id}`).set('X-Api-Key', readKey).expect(200);
    const refused = await http.post(`/api/v1/conversations/${c.id}/claim`).set('X-Api-Key', readKey).send({ version: 1 }).expect(403);
    expect(refused.body.message).toMatch(/conversations:write/);
    await http.get('/api/v1/audit').set('X-Api-Key', readKey).expect(403);
    await http.get(`/api/v1/conversations/${c.id}`).expect(401);
    expect(await audit(c.id)).toHaveLength(1); // only "opened": nothing above changed anything
  });

  it('replies: only the owner sends; a non-owner is refused naming the owner; takeover then reply works and is audited', async () => {
    const c = await customerWrites();
    await http.post(`/api/v1/conversations/${c.id}/messages`).set(as('sales2')).send({ text: 'no key' }).expect(400);

    // two agents reply at once to the unassigned conversation: one claims and sends, the other is refused
    const [r2, r3] = await Promise.all(
      ['sales2', 'sales3'].map((who) =>
        request(gateway.getHttpServer()).post(`/api/v1/conversations/${c.id}/messages`).set(as(who)).set('Idempotency-Key', `k-${who}`).send({ text: `from ${who}` }),
      ),
    );
    expect([r2.status, r3.status].sort()).toEqual([202, 409]);
    const [winner, loser] = r2.status === 202 ? [r2, r3] : [r3, r2];
    const winnerKey = winner === r2 ? 'sales2' : 'sales3';
    const loserKey = winner === r2 ? 'sales3' : 'sales2';
    expect(winner.body).toMatchObject({ claimed: true, duplicate: false, status: 'queued' });
    expect(loser.body.message).toContain(`User ${winnerKey} <${winnerKey}@example.test>`);
    expect(loser.body.details.owner).toMatchObject({ id: ids[winnerKey], name: `User ${winnerKey}` });
    const mine = sends.filter((s) => s.conversationId === c.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ phoneNumberId: SALES_NUMBER, senderId: ids[winnerKey], message: { type: 'text', body: `from ${winnerKey}` } });

    // the same Idempotency-Key 5 times at once: one send, every answer the first result
    const again = await Promise.all(
      Array.from({ length: 5 }, () =>
        request(gateway.getHttpServer()).post(`/api/v1/conversations/${c.id}/messages`).set(as(winnerKey)).set('Idempotency-Key', 'same-key').send({ text: 'once' }),
      ),
    );
    expect(again.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(again.map((r) => r.body.sendId)).size).toBe(1);
    expect(new Set(sends.filter((s) => s.conversationId === c.id && s.message.type === 'text' && s.message.body === 'once').map((s) => s.idempotencyKey)).size).toBe(1);

    // the manager takes over; the previous owner can no longer reply; the manager can
    const state = (await http.get(`/api/v1/conversations/${c.id}`).set(as('manager')).expect(200)).body;
    await http.post(`/api/v1/conversations/${c.id}/takeover`).set(as(winnerKey)).send({ version: state.version }).expect(403);
    const taken = await http.post(`/api/v1/conversations/${c.id}/takeover`).set(as('manager')).send({ version: state.version }).expect(200);
    expect(taken.body.ownerId).toBe(ids.manager);
    const refused = await http.post(`/api/v1/conversations/${c.id}/messages`).set(as(winnerKey)).set('Idempotency-Key', 'after').send({ text: 'late' }).expect(409);
    expect(refused.body.message).toContain('User manager');
    await http.post(`/api/v1/conversations/${c.id}/messages`).set(as('manager')).set('Idempotency-Key', 'mgr').send({ text: 'manager here' }).expect(202);
    expect(sends.filter((s) => s.conversationId === c.id && s.senderId === ids[loserKey])).toHaveLength(0);
    const actions = (await audit(c.id)).map((e: { action: string }) => e.action);
    expect(actions).toEqual(['conversation.opened', 'conversation.claimed', 'conversation.takeover']);
  });

  it('notes with mentions, handoff with a note, and a timeline of messages, notes and events in order', async () => {
    const c = await customerWrites('Where is my order?');
    let s = (await http.post(`/api/v1/conversations/${c.id}/claim`).set(as('sales4')).send({ version: 1 }).expect(200)).body;
    const note = await http
      .post(`/api/v1/conversations/${c.id}/notes`)
      .set(as('sales4'))
      .send({ body: '<img src=x onerror=alert(1)> ask @manager', mentions: [ids.manager] })
      .expect(201);
    expect(note.body).toMatchObject({ body: '<img src=x onerror=alert(1)> ask @manager', mentions: [ids.manager] });
    await http.post(`/api/v1/conversations/${c.id}/notes`).set(as('sales4')).send({ body: 'x', mentions: [randomUUID()] }).expect(400);
    await http.post(`/api/v1/conversations/${c.id}/handoff`).set(as('sales4')).send({ toTeamId: teams.Support, version: s.version }).expect(400);
    s = (
      await http
        .post(`/api/v1/conversations/${c.id}/handoff`)
        .set(as('sales4'))
        .send({ toTeamId: teams.Support, note: 'warranty case, Support please', version: s.version })
        .expect(200)
    ).body;
    expect(s).toMatchObject({ teamId: teams.Support, ownerId: null });
    // now a Support conversation: the Sales agent no longer sees it, the Support agent does
    await http.get(`/api/v1/conversations/${c.id}`).set(as('sales4')).expect(404);
    const tl = (await http.get(`/api/v1/conversations/${c.id}/timeline`).set(as('support1')).expect(200)).body.items;
    expect(tl.map((i: { kind: string }) => i.kind)).toEqual(['message', 'event', 'event', 'note', 'event', 'note', 'event']);
    expect(tl[0].message.text).toBe('Where is my order?');
    expect(tl[5].note.body).toBe('warranty case, Support please');
    expect(tl[6].event).toMatchObject({ action: 'conversation.handoff', note: 'warranty case, Support please' });
    const times = tl.map((i: { at: string }) => Date.parse(i.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('every change writes exactly one audit entry with before/after; the audit is read-only and exports as CSV', async () => {
    const c = await customerWrites();
    let s = (await http.post(`/api/v1/conversations/${c.id}/claim`).set(as('sales5')).send({ version: 1 }).expect(200)).body;
    s = (await http.post(`/api/v1/conversations/${c.id}/priority`).set(as('sales5')).send({ priority: 'high', version: s.version }).expect(200)).body;
    s = (await http.post(`/api/v1/conversations/${c.id}/labels`).set(as('sales5')).send({ labels: ['=cmd|calc', 'vip'], version: s.version }).expect(200)).body;
    s = (await http.post(`/api/v1/conversations/${c.id}/assign`).set(as('manager')).send({ assigneeId: ids.sales6, version: s.version }).expect(200)).body;
    await http.post(`/api/v1/conversations/${c.id}/assign`).set(as('manager')).send({ assigneeId: ids.support1, version: s.version }).expect(400);
    await http.post(`/api/v1/conversations/${c.id}/assign`).set(as('sales6')).send({ assigneeId: ids.sales5, version: s.version }).expect(403);
    s = (await http.post(`/api/v1/conversations/${c.id}/status`).set(as('sales6')).send({ status: 'resolved', version: s.version }).expect(200)).body;
    expect(s.version).toBe(6);
    const entries = await audit(c.id);
    expect(entries.map((e: { action: string }) => e.action)).toEqual([
      'conversation.opened',
      'conversation.claimed',
      'conversation.priority',
      'conversation.labels',
      'conversation.assigned',
      'conversation.status.resolved',
    ]);
    for (const [i, e] of entries.entries()) expect(e.after.version).toBe(i + 1);
    expect(entries[4]).toMatchObject({ before: { ownerId: ids.sales5 }, after: { ownerId: ids.sales6 }, actor: { id: ids.manager } });

    for (const method of ['put', 'patch', 'delete'] as const) await http[method](`/api/v1/audit/${entries[0].id}`).set(as('admin')).expect(404);
    await http.get('/api/v1/audit').set(as('sales5')).expect(403);
    const managerView = (await http.get(`/api/v1/audit?conversationId=${c.id}`).set(as('manager')).expect(200)).body.items;
    expect(managerView).toHaveLength(6);

    const csv = await http.get(`/api/v1/audit?conversationId=${c.id}&format=csv`).set(as('admin')).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('createdAt,seq,id,conversationId,teamId,actorType,actorId,actorName,action,before,after,note,requestId');
    expect(lines).toHaveLength(7);
    expect(lines[1]).toContain('"conversation.status.resolved"');
    expect(csv.text).not.toMatch(/(^|,)"=/m); // formula-looking cells are neutralised
    const filtered = (await http.get(`/api/v1/audit?actorId=${ids.manager}&action=conversation.assigned`).set(as('admin')).expect(200)).body.items;
    expect(filtered.map((e: { conversationId: string }) => e.conversationId)).toContain(c.id);
  });

  it('lists by view with filters and an opaque cursor', async () => {
    const a = await customerWrites();
    const b = await customerWrites();
    await http.post(`/api/v1/conversations/${a.id}/claim`).set(as('sales7')).send({ version: 1 }).expect(200);
    await http.post(`/api/v1/conversations/${b.id}/claim`).set(as('sales7')).send({ version: 1 }).expect(200);
    const p1 = (await http.get('/api/v1/conversations?view=mine&limit=1').set(as('sales7')).expect(200)).body;
    expect(p1.items).toHaveLength(1);
    const p2 = (await http.get(`/api/v1/conversations?view=mine&limit=1&cursor=${p1.nextCursor}`).set(as('sales7')).expect(200)).body;
    expect([p1.items[0].id, p2.items[0].id].sort()).toEqual([a.id, b.id].sort());
    expect(p1.items[0].owner).toEqual({ id: ids.sales7, name: 'User sales7' });
    const bad = await http.get('/api/v1/conversations?view=everything').set(as('sales7')).expect(400);
    expect(bad.body.message).toMatch(/view/);
    const unassigned = (await http.get(`/api/v1/conversations?view=unassigned&teamId=${teams.Sales}`).set(as('sales7')).expect(200)).body;
    expect(unassigned.items.every((i: { owner: unknown; team: { id: string } }) => i.owner === null && i.team.id === teams.Sales)).toBe(true);
    const byNumber = (await http.get(`/api/v1/conversations?view=mine&phoneNumberId=${SALES_NUMBER}`).set(as('sales7')).expect(200)).body;
    expect(byNumber.items).toHaveLength(2);
    expect((await http.get('/api/v1/conversations?view=mine&phoneNumberId=999').set(as('sales7')).expect(200)).body.items).toEqual([]);
  });

  it('administration changes (people, teams, API keys, number teams) join the audit trail, without secrets', async () => {
    const created = await http
      .post('/api/v1/users')
      .set(as('admin'))
      .set('X-Request-Id', 'req-audit-user-1')
      .send({ email: 'audited@example.test', name: 'Audited', password: 'audited-password-1', role: 'agent', teamIds: [teams.Sales] })
      .expect(201);
    await http.patch(`/api/v1/users/${created.body.id}`).set(as('admin')).send({ role: 'manager', password: 'another-password-1' }).expect(200);
    const key = (await http.post('/api/v1/api-keys').set(as('admin')).send({ name: 'audited key', scopes: ['conversations:read'] }).expect(201)).body;
    await http.delete(`/api/v1/api-keys/${key.id}`).set(as('admin')).expect(200);
    await http.delete(`/api/v1/api-keys/${key.id}`).set(as('admin')).expect(200); // already revoked: no second entry

    const entries = await waitFor(async () => {
      const items = (await http.get('/api/v1/audit?limit=1000').set(as('admin')).expect(200)).body.items;
      const mine = items.filter(
        (e: { after: any; before: any }) => e.after?.userId === created.body.id || e.after?.api_keyId === key.id || e.before?.api_keyId === key.id,
      );
      return mine.length >= 4 ? mine.reverse() : null;
    }, { what: 'directory audit entries' });
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['user.created', 'user.updated', 'api-key.created', 'api-key.revoked']);
    expect(entries[0]).toMatchObject({
      actor: { type: 'user', id: expect.any(String) },
      before: null,
      after: { email: 'audited@example.test', role: 'agent', teamIds: [teams.Sales] },
      requestId: 'req-audit-user-1',
    });
    expect(entries[1]).toMatchObject({ before: { role: 'agent' }, after: { role: 'manager', passwordChanged: true } });
    const all = JSON.stringify(entries);
    expect(all).not.toContain('audited-password-1');
    expect(all).not.toContain('scrypt$');
    expect(all).not.toContain(key.key);

    const items = (await http.get('/api/v1/audit?limit=1000').set(as('admin')).expect(200)).body.items;
    expect(items.filter((e: { action: string }) => e.action === 'team.created')).toHaveLength(2);
    expect(items.filter((e: { action: string }) => e.action === 'number.team-set')).toEqual([
      expect.objectContaining({ after: { phoneNumberId: SALES_NUMBER, teamId: teams.Sales }, before: { phoneNumberId: SALES_NUMBER, teamId: null } }),
    ]);
    // managers see their teams' conversation entries, not administration
    const managerItems = (await http.get('/api/v1/audit?limit=1000').set(as('manager')).expect(200)).body.items;
    expect(managerItems.some((e: { conversationId: string | null }) => e.conversationId === null)).toBe(false);
  });
});
