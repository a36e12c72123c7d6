import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import {
  AddNoteV1,
  AssignV1,
  BotHoldV1,
  ClaimV1,
  ConversationOpenedV1,
  DirectoryChangedV1,
  GetActivityV1,
  GetWorkV1,
  HandoffV1,
  ListAuditV1,
  ListWorkV1,
  MessageReceivedV1,
  PrepareReplyV1,
  SetLabelsV1,
  SetNumberTeamV1,
  SetPriorityV1,
  SetStatusV1,
  TakeoverV1,
  type Actor,
  type WorkState,
} from '@app/contracts';
import { NatsBus, RemoteError } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { RoutingConfigSchema } from '../src/config';
import { RoutingModule } from '../src/routing.module';

const SALES = randomUUID();
const SUPPORT = randomUUID();
const user = (role: Actor['role'], teamIds: string[], name: string = role): Actor => ({ type: 'user', id: randomUUID(), name, role, teamIds });
const admin = user('admin', [], 'Admin');
const salesManager = user('manager', [SALES], 'Sales manager');
const salesAgents = Array.from({ length: 20 }, (_, i) => user('agent', [SALES], `Sales agent ${i}`));
const supportAgent = user('agent', [SUPPORT], 'Support agent');
const salesViewer = user('viewer', [SALES], 'Viewer');
const ref = (a: Actor) => ({ id: a.id, role: a.role, teamIds: a.teamIds });

describe('routing: conversation work state on real PostgreSQL and NATS', () => {
  let env: TestEnv;
  let app: INestApplication;
  let bus: NatsBus;
  let ds: DataSource;

  const SALES_NUMBER = '1555000001';
  const SUPPORT_NUMBER = '1555000002';

  async function open(phoneNumberId: string, conversationId = randomUUID(), reopened = false): Promise<WorkState> {
    await bus.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      conversationId,
      phoneNumberId,
      contactId: randomUUID(),
      contactName: null,
      waId: '15550009999',
      userId: null,
      reopened,
    });
    return waitFor(() => bus.request(GetWorkV1, { actor: admin, conversationId }).catch(() => null), { what: 'work item' });
  }

  async function refused(p: Promise<unknown>): Promise<RemoteError> {
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    return err as RemoteError;
  }

  const auditOf = (conversationId: string) =>
    ds.query(`SELECT action, actor_id, before, after FROM routing.audit_entry WHERE conversation_id = $1 ORDER BY seq`, [conversationId]);

  beforeAll(async () => {
    env = await createTestEnv({ SNOOZE_SWEEP_INTERVAL_MS: '100' });
    app = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    ds = app.get(DataSource);
    bus = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'test' });
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: SALES_NUMBER, teamId: SALES });
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: SUPPORT_NUMBER, teamId: SUPPORT });
  });
  afterAll(async () => {
    await bus?.close();
    await app?.close();
    await env?.cleanup();
  });

  it('creates an unowned, open work item in the number’s default team, with one audit entry', async () => {
    const w = await open(SALES_NUMBER);
    expect(w).toMatchObject({ teamId: SALES, ownerId: null, status: 'open', priority: 'normal', labels: [], version: 1 });
    const audit = await auditOf(w.conversationId);
    expect(audit).toEqual([expect.objectContaining({ action: 'conversation.opened', actor_id: null, before: null })]);
  });

  it('20 agents claim at once: exactly one wins, 19 get CONFLICT, one audit entry', async () => {
    const w = await open(SALES_NUMBER);
    const results = await Promise.allSettled(
      salesAgents.map((a) => bus.request(ClaimV1, { actor: a, conversationId: w.conversationId, version: w.version })),
    );
    const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<WorkState>[];
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const l of lost) {
      expect(l.reason).toBeInstanceOf(RemoteError);
      expect(l.reason.code).toBe('CONFLICT');
      expect(l.reason.details.current).toMatchObject({ ownerId: won[0].value.ownerId, version: 2 });
    }
    const claims = (await auditOf(w.conversationId)).filter((e: { action: string }) => e.action === 'conversation.claimed');
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ actor_id: won[0].value.ownerId, before: { ownerId: null, version: 1 }, after: { version: 2 } });
  });

  it('refuses a stale version with CONFLICT carrying the current state', async () => {
    const w = await open(SALES_NUMBER);
    const a = salesAgents[0];
    const claimed = await bus.request(ClaimV1, { actor: a, conversationId: w.conversationId, version: 1 });
    const err = await refused(bus.request(SetPriorityV1, { actor: a, conversationId: w.conversationId, version: 1, priority: 'high' }));
    expect(err.code).toBe('CONFLICT');
    expect(err.details).toEqual({ current: claimed });
    expect(err.message).toMatch(/version is 2/);
  });

  it('scopes by team and role: a Sales agent cannot read, list or act on a Support conversation; a viewer changes nothing', async () => {
    const support = await open(SUPPORT_NUMBER);
    const sales = await open(SALES_NUMBER);
    const a = salesAgents[1];
    expect((await refused(bus.request(GetWorkV1, { actor: a, conversationId: support.conversationId }))).code).toBe('NOT_FOUND');
    expect((await refused(bus.request(ClaimV1, { actor: a, conversationId: support.conversationId, version: 1 }))).code).toBe('NOT_FOUND');
    expect(
      (await refused(bus.request(AddNoteV1, { actor: a, conversationId: support.conversationId, body: 'hi', mentions: [] }))).code,
    ).toBe('NOT_FOUND');
    const listed = await bus.request(ListWorkV1, { actor: a, view: 'all', limit: 200 });
    const ids = listed.items.map((i) => i.conversationId);
    expect(ids).toContain(sales.conversationId);
    expect(ids).not.toContain(support.conversationId);
    expect(listed.items.every((i) => i.teamId === SALES || i.teamId === null || i.ownerId === a.id)).toBe(true);
    // the Support agent sees it
    await bus.request(GetWorkV1, { actor: supportAgent, conversationId: support.conversationId });
    // a viewer reads but cannot claim, note or change status
    await bus.request(GetWorkV1, { actor: salesViewer, conversationId: sales.conversationId });
    expect((await refused(bus.request(ClaimV1, { actor: salesViewer, conversationId: sales.conversationId, version: 1 }))).code).toBe(
      'FORBIDDEN',
    );
    expect(
      (await refused(bus.request(AddNoteV1, { actor: salesViewer, conversationId: sales.conversationId, body: 'x', mentions: [] }))).code,
    ).toBe('FORBIDDEN');
    // a manager of another team cannot even see it
    const supportManager = user('manager', [SUPPORT]);
    expect((await refused(bus.request(TakeoverV1, { actor: supportManager, conversationId: sales.conversationId, version: 1 }))).code).toBe(
      'NOT_FOUND',
    );
    // an agent cannot take over from a colleague
    await bus.request(ClaimV1, { actor: a, conversationId: sales.conversationId, version: 1 });
    expect((await refused(bus.request(TakeoverV1, { actor: salesAgents[2], conversationId: sales.conversationId, version: 2 }))).code).toBe(
      'FORBIDDEN',
    );
    expect(await auditOf(support.conversationId)).toHaveLength(1);
  });

  it('every state change writes exactly one audit entry with before/after; no-ops write none', async () => {
    const w = await open(SALES_NUMBER);
    const id = w.conversationId;
    const a = salesAgents[3];
    const b = salesAgents[4];
    let s = await bus.request(ClaimV1, { actor: a, conversationId: id, version: 1 });
    s = await bus.request(SetLabelsV1, { actor: a, conversationId: id, version: s.version, labels: ['vip', 'billing', 'vip'] });
    expect(s.labels).toEqual(['billing', 'vip']);
    s = await bus.request(SetLabelsV1, { actor: a, conversationId: id, version: s.version, labels: ['vip', 'billing'] }); // no-op
    s = await bus.request(SetPriorityV1, { actor: a, conversationId: id, version: s.version, priority: 'urgent' });
    const snooze = new Date(Date.now() + 3600_000).toISOString();
    s = await bus.request(SetStatusV1, { actor: a, conversationId: id, version: s.version, status: 'snoozed', snoozeUntil: snooze });
    expect(s.snoozeUntil).toBe(snooze);
    s = await bus.request(HandoffV1, { actor: a, conversationId: id, version: s.version, toUser: ref(b), note: 'customer wants a refund' });
    expect(s.ownerId).toBe(b.id);
    s = await bus.request(TakeoverV1, { actor: salesManager, conversationId: id, version: s.version });
    s = await bus.request(AssignV1, { actor: salesManager, conversationId: id, version: s.version, assignee: ref(a) });
    s = await bus.request(SetStatusV1, { actor: a, conversationId: id, version: s.version, status: 'resolved' });
    expect(s).toMatchObject({ status: 'resolved', version: 9, snoozeUntil: null });
    expect(s.resolvedAt).not.toBeNull();
    const audit = await auditOf(id);
    expect(audit.map((e: { action: string }) => e.action)).toEqual([
      'conversation.opened',
      'conversation.claimed',
      'conversation.labels',
      'conversation.priority',
      'conversation.status.snoozed',
      'conversation.handoff',
      'conversation.takeover',
      'conversation.assigned',
      'conversation.status.resolved',
    ]);
    for (const [i, e] of audit.slice(1).entries()) {
      expect(e.before.version).toBe(i + 1);
      expect(e.after.version).toBe(i + 2);
    }
    expect(audit[5]).toMatchObject({ before: { ownerId: a.id }, after: { ownerId: b.id } });

    // the timeline material: the handoff note is a note, and every event is there in order
    const act = await bus.request(GetActivityV1, { actor: a, conversationId: id, limit: 100 });
    expect(act.notes.map((n) => n.body)).toEqual(['customer wants a refund']);
    expect(act.events).toHaveLength(9);

    // events went out through the outbox: assigned for claim/handoff/takeover/assign, resolved once
    const outbox = await ds.query(`SELECT subject, payload FROM routing.outbox WHERE payload->>'conversationId' = $1 OR payload->'state'->>'conversationId' = $1`, [id]);
    const subjects = outbox.map((r: { subject: string }) => r.subject);
    expect(subjects.filter((x: string) => x === 'inbox.conversation.assigned.v1')).toHaveLength(4);
    expect(subjects.filter((x: string) => x === 'inbox.conversation.resolved.v1')).toHaveLength(1);
    const takeover = outbox.find((r: { subject: string; payload: { reason?: string } }) => r.payload.reason === 'takeover');
    expect(takeover.payload).toMatchObject({ previousOwnerId: b.id, ownerId: salesManager.id });
  });

  it('the audit table is append-only: the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    const w = await open(SALES_NUMBER);
    await expect(ds.query(`UPDATE routing.audit_entry SET action = 'x' WHERE conversation_id = $1`, [w.conversationId])).rejects.toThrow(
      /append-only/,
    );
    await expect(ds.query(`DELETE FROM routing.audit_entry WHERE conversation_id = $1`, [w.conversationId])).rejects.toThrow(/append-only/);
    await expect(ds.query(`TRUNCATE routing.audit_entry`)).rejects.toThrow(/append-only/);
    expect(await auditOf(w.conversationId)).toHaveLength(1);
  });

  it('reply preparation: owner passes, unassigned is claimed atomically, anyone else is refused naming the owner', async () => {
    const w = await open(SALES_NUMBER);
    const [a, b] = [salesAgents[5], salesAgents[6]];
    const results = await Promise.allSettled([
      bus.request(PrepareReplyV1, { actor: a, conversationId: w.conversationId }),
      bus.request(PrepareReplyV1, { actor: b, conversationId: w.conversationId }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ state: WorkState; claimed: boolean }>[];
    const no = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(ok[0].value.claimed).toBe(true);
    expect(no[0].reason.code).toBe('CONFLICT');
    expect(no[0].reason.details.ownerId).toBe(ok[0].value.state.ownerId);
    const owner = ok[0].value.state.ownerId === a.id ? a : b;
    await expect(bus.request(PrepareReplyV1, { actor: owner, conversationId: w.conversationId })).resolves.toMatchObject({ claimed: false });
  });

  it('reopens a resolved conversation on a newer opened event and wakes a pending one on a customer message', async () => {
    const w = await open(SALES_NUMBER);
    const a = salesAgents[7];
    let s = await bus.request(ClaimV1, { actor: a, conversationId: w.conversationId, version: 1 });
    s = await bus.request(SetStatusV1, { actor: a, conversationId: w.conversationId, version: s.version, status: 'resolved' });
    await bus.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      conversationId: w.conversationId,
      phoneNumberId: SALES_NUMBER,
      contactId: w.contactId,
      contactName: null,
      waId: null,
      userId: null,
      reopened: true,
    });
    s = await waitFor(async () => {
      const x = await bus.request(GetWorkV1, { actor: a, conversationId: w.conversationId });
      return x.status === 'open' ? x : null;
    });
    expect(s).toMatchObject({ ownerId: a.id, resolvedAt: null, version: 4 });
    s = await bus.request(SetStatusV1, { actor: a, conversationId: w.conversationId, version: s.version, status: 'pending' });
    await bus.publish(MessageReceivedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      conversationId: w.conversationId,
      phoneNumberId: SALES_NUMBER,
      contactId: w.contactId,
      messageId: randomUUID(),
      waMessageId: 'wamid.x',
      direction: 'inbound',
      origin: 'customer',
      type: 'text',
      text: 'hello',
      sentAt: new Date().toISOString(),
    });
    const woke = await waitFor(async () => {
      const x = await bus.request(GetWorkV1, { actor: a, conversationId: w.conversationId });
      return x.status === 'open' ? x : null;
    });
    expect(woke.lastMessageAt).not.toBeNull();
  });

  it('reopens a resolved conversation when a customer message arrives after the resolve, even without a reopened event', async () => {
    const w = await open(SALES_NUMBER);
    const a = salesAgents[6];
    let s = await bus.request(ClaimV1, { actor: a, conversationId: w.conversationId, version: 1 });
    s = await bus.request(SetStatusV1, { actor: a, conversationId: w.conversationId, version: s.version, status: 'resolved' });
    const message = (occurredAt: string) =>
      bus.publish(MessageReceivedV1, {
        eventId: randomUUID(),
        occurredAt,
        conversationId: w.conversationId,
        phoneNumberId: SALES_NUMBER,
        contactId: w.contactId,
        messageId: randomUUID(),
        waMessageId: `wamid.${randomUUID()}`,
        direction: 'inbound',
        origin: 'customer',
        type: 'text',
        text: 'one more thing',
        sentAt: occurredAt,
      });
    // a message handled before the resolve (arriving late) leaves it resolved
    await message(new Date(Date.parse(s.resolvedAt!) - 60_000).toISOString());
    await new Promise((r) => setTimeout(r, 300));
    expect((await bus.request(GetWorkV1, { actor: a, conversationId: w.conversationId })).status).toBe('resolved');
    // ingest saw the conversation still open (the resolve had not reached it), so only the message event comes
    await message(new Date().toISOString());
    const reopened = await waitFor(async () => {
      const x = await bus.request(GetWorkV1, { actor: a, conversationId: w.conversationId });
      return x.status === 'open' ? x : null;
    });
    expect(reopened).toMatchObject({ ownerId: a.id, resolvedAt: null });
  });

  it('lists by view with an opaque cursor and lets only managers/admins read the audit trail', async () => {
    const m = user('agent', [SALES]);
    const mine = [await open(SALES_NUMBER), await open(SALES_NUMBER), await open(SALES_NUMBER)];
    for (const w of mine) await bus.request(ClaimV1, { actor: m, conversationId: w.conversationId, version: 1 });
    const p1 = await bus.request(ListWorkV1, { actor: m, view: 'mine', limit: 2 });
    expect(p1.items).toHaveLength(2);
    const p2 = await bus.request(ListWorkV1, { actor: m, view: 'mine', limit: 2, cursor: p1.nextCursor });
    expect(p2.items).toHaveLength(1);
    expect(p2.nextCursor).toBeNull();
    expect([...p1.items, ...p2.items].map((i) => i.conversationId).sort()).toEqual(mine.map((w) => w.conversationId).sort());
    // a crafted cursor is refused as invalid input, never reaching SQL as a bad timestamp
    const crafted = Buffer.from(JSON.stringify({ a: "'; select 1 --", i: randomUUID() })).toString('base64url');
    await expect(bus.request(ListWorkV1, { actor: m, view: 'mine', limit: 2, cursor: crafted })).rejects.toMatchObject({ code: 'VALIDATION' });
    // every scope once: a team-less conversation it owns, one it owns in another team (after a handoff), its team's
    const teamless = await open('1555000999');
    await bus.request(ClaimV1, { actor: m, conversationId: teamless.conversationId, version: 1 });
    const elsewhere = await open(SUPPORT_NUMBER);
    await bus.request(AssignV1, { actor: admin, conversationId: elsewhere.conversationId, version: 1, assignee: { id: m.id, role: 'agent', teamIds: [SALES, SUPPORT] } });
    const supportOnly = await open(SUPPORT_NUMBER);
    const everything = [] as string[];
    let cursor: string | null = null;
    do {
      const page: { items: WorkState[]; nextCursor: string | null } = await bus.request(ListWorkV1, { actor: m, view: 'all', limit: 7, cursor });
      everything.push(...page.items.map((i) => i.conversationId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(everything).size).toBe(everything.length);
    for (const id of [teamless.conversationId, elsewhere.conversationId, ...mine.map((w) => w.conversationId)]) expect(everything).toContain(id);
    expect(everything).not.toContain(supportOnly.conversationId);
    const mineNow = await bus.request(ListWorkV1, { actor: m, view: 'mine', limit: 50 });
    expect(mineNow.items).toHaveLength(5);
    const unassigned = await bus.request(ListWorkV1, { actor: m, view: 'unassigned', limit: 200 });
    expect(unassigned.items.every((i) => i.ownerId === null)).toBe(true);
    expect((await refused(bus.request(ListWorkV1, { actor: m, view: 'all', limit: 5, cursor: 'nonsense' }))).code).toBe('VALIDATION');

    expect((await refused(bus.request(ListAuditV1, { actor: m, limit: 10 }))).code).toBe('FORBIDDEN');
    const trail = await bus.request(ListAuditV1, { actor: salesManager, actorId: m.id, limit: 10 });
    expect(trail.items.map((e) => e.action)).toEqual(['conversation.claimed', 'conversation.claimed', 'conversation.claimed']);
    const supportManager = user('manager', [SUPPORT]);
    const none = await bus.request(ListAuditV1, { actor: supportManager, actorId: m.id, limit: 10 });
    expect(none.items).toHaveLength(0);
  });

  it('a snoozed conversation reopens by itself when its time comes, with one audit entry', async () => {
    const w = await open(SALES_NUMBER);
    const a = salesAgents[8];
    let s = await bus.request(ClaimV1, { actor: a, conversationId: w.conversationId, version: 1 });
    const until = new Date(Date.now() + 600).toISOString();
    s = await bus.request(SetStatusV1, { actor: a, conversationId: w.conversationId, version: s.version, status: 'snoozed', snoozeUntil: until });
    expect(s.status).toBe('snoozed');
    const woke = await waitFor(async () => {
      const x = await bus.request(GetWorkV1, { actor: a, conversationId: w.conversationId });
      return x.status === 'open' ? x : null;
    });
    expect(woke).toMatchObject({ ownerId: a.id, snoozeUntil: null, version: s.version + 1 });
    const ended = (await auditOf(w.conversationId)).filter((e: { action: string }) => e.action === 'conversation.snooze-ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ actor_id: null, before: { status: 'snoozed' }, after: { status: 'open' } });
    await expect(
      bus.request(SetStatusV1, { actor: a, conversationId: w.conversationId, version: woke.version, status: 'snoozed', snoozeUntil: new Date(Date.now() - 1000).toISOString() }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('revoking a bot releases every conversation it holds, batch after batch, and it holds nothing afterwards', async () => {
    const bot: Actor = { type: 'bot', id: randomUUID(), name: 'Busy bot', role: 'admin', teamIds: [] };
    const w = await open(SALES_NUMBER);
    const held = await bus.request(BotHoldV1, { actor: bot, conversationId: w.conversationId });
    expect(held.bot).toMatchObject({ id: bot.id, name: 'Busy bot' });
    // 1,200 conversations held by it: more than one release batch
    const cols: string[] = (
      await ds.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'routing' AND table_name = 'conversation_work' AND is_generated = 'NEVER'`)
    ).map((c: { column_name: string }) => c.column_name);
    const copy = cols.map((c) => (c === 'conversation_id' || c === 'contact_id' ? 'gen_random_uuid()' : `w.${c}`));
    await ds.query(
      `INSERT INTO routing.conversation_work (${cols.join(', ')}) SELECT ${copy.join(', ')} FROM routing.conversation_work w, generate_series(1, 1199) WHERE w.conversation_id = $1`,
      [w.conversationId],
    );
    const heldBy = async () => (await ds.query(`SELECT count(*)::int AS n FROM routing.conversation_work WHERE bot_id = $1`, [bot.id]))[0].n as number;
    expect(await heldBy()).toBe(1200);
    await bus.publish(DirectoryChangedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      actor: { type: 'user', id: admin.id, name: 'Admin' },
      action: 'api-key.revoked',
      entityType: 'api_key',
      entityId: bot.id,
      before: { revoked: false },
      after: { revoked: true },
    });
    await waitFor(async () => (await heldBy()) === 0, { what: 'every conversation released', timeoutMs: 120_000 });
    const released = await ds.query(`SELECT count(*)::int AS n FROM routing.audit_entry WHERE action = 'conversation.bot-released' AND before->'bot'->>'id' = $1`, [bot.id]);
    expect(released[0].n).toBe(1200);
    expect(await bus.request(GetWorkV1, { actor: admin, conversationId: w.conversationId })).toMatchObject({ bot: null, ownerId: null });
    // the bot holds nothing from now on
    const again = await refused(bus.request(BotHoldV1, { actor: bot, conversationId: w.conversationId }));
    expect(again).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/Busy bot: its API key was revoked/) });
    expect(await heldBy()).toBe(0);
  }, 180_000);
});
