import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Events } from 'nats';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import {
  BusinessHoursStateV1,
  CheckSendV1,
  ClaimV1,
  CreateAutomationRuleV1,
  DryRunAutomationV1,
  ListAutomationRulesV1,
  SetLabelsV1,
  UpdateAutomationRuleV1,
  SetPriorityV1,
  SetAutomationRuleEnabledV1,
  SlaEscalatedV1,
  INTEGRATOR_EVENT_SUBJECTS,
  ConversationOpenedV1,
  CreateMacroV1,
  GetWorkV1,
  ListMacrosV1,
  RunMacroV1,
  GetConversationV1,
  ListAutoRepliesV1,
  MessageReceivedV1,
  PutAutoReplyV1,
  RenderCannedV1,
  SendMessageV1,
  SetNumberTeamV1,
  SetTeamRoutingV1,
  SetAgentCapacityV1,
  SetAgentStatusV1,
  type Actor,
  type PayloadOf,
  type RequestOf,
} from '@app/contracts';
import { Bus, NatsBus, NotFoundError, ValidationError } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { RoutingClock } from '../src/assignment/clock';
import { AutoReplyService } from '../src/automation/auto-reply.service';
import { AutomationRulesService } from '../src/automation/automation-rules.service';
import { RoutingConfigSchema } from '../src/config';
import { RoutingModule } from '../src/routing.module';

/**
 * Greeting and away replies on real PostgreSQL and NATS: routing runs; sla (business hours), ingest (the contact's
 * WhatsApp id) and notifications (the send) are peers on the bus that answer and record.
 */
const user = (role: Actor['role'], teamIds: string[] = []): Actor => ({ type: 'user', id: randomUUID(), name: role, role, teamIds });
const admin = user('admin');

describe('routing: greeting and away replies (real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let app: INestApplication;
  let bus: NatsBus;
  let ds: DataSource;
  let hoursOpen = false;
  let failSends = 0;
  /** Conversations whose 24 h window is closed: the send peer refuses free text there, as notifications does. */
  const windowClosed = new Set<string>();
  /** The gateway's canned-response filling, as each test sets it. */
  let renderCanned: (q: RequestOf<typeof RenderCannedV1>) => { text: string; missing: string[] } = () => {
    throw new NotFoundError('no such canned response');
  };
  const hoursAsked: Array<{ teamId?: string; at: string }> = [];
  const sends: Array<RequestOf<typeof SendMessageV1>> = [];
  const sentTo = (conversationId: string) => sends.filter((s) => s.conversationId === conversationId);
  const checks: Array<RequestOf<typeof CheckSendV1>> = [];

  async function open(phoneNumberId: string, returning: boolean, attributes?: Record<string, string>): Promise<string> {
    const conversationId = randomUUID();
    await bus.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      conversationId,
      phoneNumberId,
      contactId: randomUUID(),
      contactName: 'Ana',
      waId: '4915112345678',
      userId: null,
      reopened: false,
      contact: { returning, attributes },
      message: { type: 'text', text: 'Hello' },
    });
    await waitFor(async () => (await ds.query(`SELECT 1 FROM routing.conversation_work WHERE conversation_id = $1`, [conversationId])).length > 0, {
      what: 'work item',
    });
    return conversationId;
  }
  const message = (conversationId: string, phoneNumberId: string): PayloadOf<typeof MessageReceivedV1> => ({
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    conversationId,
    phoneNumberId,
    contactId: randomUUID(),
    messageId: randomUUID(),
    waMessageId: `wamid.${randomUUID()}`,
    direction: 'inbound',
    origin: 'customer',
    type: 'text',
    text: 'Are you there?',
    sentAt: new Date().toISOString(),
  });
  const replies = async () => (await bus.request(ListAutoRepliesV1, { actor: admin })).items;

  beforeAll(async () => {
    env = await createTestEnv({});
    app = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    ds = app.get(DataSource);
    bus = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    await bus.respond(BusinessHoursStateV1, async (q) => {
      hoursAsked.push({ teamId: q.teamId, at: q.at });
      return { open: hoursOpen, nextOpenAt: hoursOpen ? null : '2026-11-26T09:00:00.000Z', businessHoursId: randomUUID(), timeZone: 'UTC' };
    });
    await bus.respond(GetConversationV1, async (q) => ({
      id: q.conversationId,
      phoneNumberId: '1',
      contact: { id: randomUUID(), name: 'Ana', waId: '4915112345678', userId: null },
      status: 'open' as const,
      lastMessageAt: new Date().toISOString(),
      lastInboundAt: new Date().toISOString(),
      lastMessageText: null,
      messageCount: 1,
      createdAt: new Date().toISOString(),
    }));
    await bus.respond(RenderCannedV1, async (q) => renderCanned(q));
    await bus.respond(SendMessageV1, async (r) => {
      if (failSends > 0) {
        failSends--;
        throw new Error('notifications database down');
      }
      if (windowClosed.has(r.conversationId!) && r.message.type === 'text') throw new ValidationError('free-form messages only within 24 h of the customer’s last message; send a template');
      sends.push(r);
      return { sendId: randomUUID(), status: 'queued' as const, waMessageId: null, duplicate: false };
    });
    // notifications' check-send: the same window rule, nothing queued
    await bus.respond(CheckSendV1, async (r) => {
      checks.push(r);
      if (windowClosed.has(r.conversationId!) && r.message.type === 'text') throw new ValidationError('free-form messages only within 24 h of the customer’s last message; send a template');
      return { ok: true as const, duplicate: false };
    });
  }, 60_000);
  afterAll(async () => {
    await bus?.close();
    await app?.close();
    await env?.cleanup();
  });

  it('away: sent once outside the team’s hours (as the system), not again within the period, never inside hours', async () => {
    const teamId = randomUUID();
    const manager = user('manager', [teamId]);
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1555${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    // who may configure: the team's manager yes, an agent or another team's manager no, a number only admins
    await expect(bus.request(PutAutoReplyV1, { actor: user('agent', [teamId]), reply: { kind: 'away', teamId, text: 'x' } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(bus.request(PutAutoReplyV1, { actor: user('manager', [randomUUID()]), reply: { kind: 'away', teamId, text: 'x' } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(bus.request(PutAutoReplyV1, { actor: manager, reply: { kind: 'away', phoneNumberId: number, text: 'x' } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(bus.request(PutAutoReplyV1, { actor: admin, reply: { kind: 'away', teamId, phoneNumberId: number, text: 'x' } as never })).rejects.toThrow(
      'give exactly one of teamId or phoneNumberId',
    );
    const away = await bus.request(PutAutoReplyV1, { actor: manager, reply: { kind: 'away', teamId, text: 'We are closed; we answer from 9:00.', periodMinutes: 60 } });
    expect(away).toMatchObject({ kind: 'away', teamId, phoneNumberId: null, periodMinutes: 60, enabled: true });

    // outside hours: the customer's message (through the bus) gets the away reply, sent as the system
    hoursOpen = false;
    const c1 = await open(number, true);
    const m1 = message(c1, number);
    await bus.publish(MessageReceivedV1, m1);
    await waitFor(() => sentTo(c1).length === 1, { what: 'away reply' });
    expect(sentTo(c1)[0]).toMatchObject({
      phoneNumberId: number,
      to: '4915112345678',
      senderId: null,
      senderName: 'Away message',
      message: { type: 'text', body: 'We are closed; we answer from 9:00.' },
    });
    expect(hoursAsked.find((h) => h.at === m1.sentAt)).toEqual({ teamId, at: m1.sentAt });
    await waitFor(async () => (await replies()).find((r) => r.id === away.id)?.sentCount === 1, { what: 'sent count' });

    const svc = app.get(AutoReplyService);
    // the same event again (redelivery) and a second message within the period: nothing more
    await svc.onMessage(m1);
    await svc.onMessage(message(c1, number));
    expect(sentTo(c1)).toHaveLength(1);
    // after the period, a new message gets it again
    app.get(RoutingClock).advance(61 * 60_000);
    await svc.onMessage(message(c1, number));
    expect(sentTo(c1)).toHaveLength(2);

    // inside hours: nothing
    hoursOpen = true;
    const c2 = await open(number, true);
    await svc.onMessage(message(c2, number));
    expect(sentTo(c2)).toHaveLength(0);

    // a send that fails for a passing reason is counted on the reply and redelivered with the same key
    hoursOpen = false;
    const c3 = await open(number, true);
    const m3 = message(c3, number);
    failSends = 1;
    await expect(svc.onMessage(m3)).rejects.toThrow();
    const failed = (await replies()).find((r) => r.id === away.id)!;
    expect(failed).toMatchObject({ errorCount: 1, lastError: expect.stringContaining('internal error') });
    await svc.onMessage(m3);
    expect(sentTo(c3)).toHaveLength(1);
    expect(sentTo(c3)[0].idempotencyKey).toBe(`auto-reply:away:${c3}:${m3.eventId}`);
    // disabled: nothing
    await bus.request(PutAutoReplyV1, { actor: admin, reply: { kind: 'away', teamId, text: 'closed', enabled: false } });
    const c4 = await open(number, true);
    await svc.onMessage(message(c4, number));
    expect(sentTo(c4)).toHaveLength(0);
  });

  it('greeting: once on a contact’s first conversation, per business number (over its team’s), never to a returning contact', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1666${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    await bus.request(PutAutoReplyV1, { actor: admin, reply: { kind: 'greeting', teamId, text: 'Team hello' } });
    await bus.request(PutAutoReplyV1, { actor: admin, reply: { kind: 'greeting', phoneNumberId: number, text: 'Welcome to our shop!' } });
    hoursOpen = true;
    const svc = app.get(AutoReplyService);
    const first = await open(number, false);
    await svc.onMessage(message(first, number));
    await svc.onMessage(message(first, number));
    expect(sentTo(first).map((s) => [s.senderName, s.message])).toEqual([['Greeting message', { type: 'text', body: 'Welcome to our shop!' }]]);
    const returning = await open(number, true);
    await svc.onMessage(message(returning, number));
    expect(sentTo(returning)).toHaveLength(0);
  });

  it('macros: each step is the agent’s own audited command; an agent cannot hand off a conversation they may not touch', async () => {
    const support = randomUUID();
    const afterSales = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId: support, strategy: 'manual' });
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId: afterSales, strategy: 'manual' });
    const number = `1777${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId: support });
    const manager = user('manager', [support]);
    const ana = user('agent', [support]);
    const ben = user('agent', [support]);
    const steps = [
      { type: 'addLabels' as const, labels: ['refund'] },
      { type: 'note' as const, body: 'Refund requested' },
      { type: 'handoff' as const, toTeamId: afterSales, note: 'Refund: over to after-sales' },
    ];
    await expect(bus.request(CreateMacroV1, { actor: ana, name: 'Shared by an agent', shared: true, steps })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const refund = await bus.request(CreateMacroV1, { actor: manager, name: 'Refund requested', shared: true, steps });
    const mine = await bus.request(CreateMacroV1, { actor: ben, name: 'Mine', steps: [{ type: 'setPriority', priority: 'high' }] });
    expect((await bus.request(ListMacrosV1, { actor: ana })).items.map((m) => m.id)).toContain(refund.id);
    expect((await bus.request(ListMacrosV1, { actor: ana })).items.map((m) => m.id)).not.toContain(mine.id);

    const c = await open(number, true);
    const w0 = await bus.request(GetWorkV1, { actor: admin, conversationId: c });
    await bus.request(ClaimV1, { actor: ana, conversationId: c, version: w0.version });
    // Ben is in the team but does not own it: the handoff is refused, nothing changes
    const handoffOnly = await bus.request(CreateMacroV1, { actor: manager, name: 'To after-sales', shared: true, steps: [steps[2]] });
    await expect(bus.request(RunMacroV1, { actor: ben, macroId: handoffOnly.id, conversationId: c })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('step 1 (handoff)'),
    });
    // someone else's personal macro is not there for Ana
    await expect(bus.request(RunMacroV1, { actor: ana, macroId: mine.id, conversationId: c })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await bus.request(GetWorkV1, { actor: admin, conversationId: c })).toMatchObject({ teamId: support, ownerId: ana.id, labels: [] });

    // the owner runs it: label, note, handoff — each one audit entry with Ana as actor
    const run = await bus.request(RunMacroV1, { actor: ana, macroId: refund.id, conversationId: c });
    expect(run.steps).toEqual([
      { type: 'addLabels', changed: true },
      { type: 'note', changed: true },
      { type: 'handoff', changed: true },
    ]);
    expect(run.state).toMatchObject({ teamId: afterSales, ownerId: null, labels: ['refund'] });
    const entries = await ds.query(
      `SELECT action, actor_id FROM routing.audit_entry WHERE conversation_id = $1 AND action NOT IN ('conversation.opened', 'conversation.queued', 'conversation.routed') ORDER BY seq`,
      [c],
    );
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['conversation.claimed', 'conversation.labels', expect.stringContaining('note'), 'conversation.handoff']);
    expect(entries.slice(1).every((e: { actor_id: string }) => e.actor_id === ana.id)).toBe(true);
  });

  it('automation rules: actions audited as the rule; a cycle is refused (400); a chain that would loop stops; dry run', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1888${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const labels = async (conversationId: string, next: string[]) => {
      const w = await bus.request(GetWorkV1, { actor: admin, conversationId });
      return bus.request(SetLabelsV1, { actor: admin, conversationId, version: w.version, labels: next });
    };
    await expect(
      bus.request(CreateAutomationRuleV1, { actor: user('agent', [teamId]), rule: { name: 'x', event: 'label.added', actions: [{ type: 'note', body: 'x' }] } }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const vip = await bus.request(CreateAutomationRuleV1, {
      actor: user('manager', [teamId]),
      rule: { name: 'VIPs are urgent', event: 'label.added', conditions: { teamIds: [teamId], labels: ['vip'] }, actions: [{ type: 'setPriority', priority: 'urgent' }, { type: 'note', body: 'VIP customer' }] },
    });
    const c = await open(number, true);
    expect((await bus.request(DryRunAutomationV1, { actor: admin, conversationId: c, event: 'label.added', label: 'vip' })).matches.map((m) => m.ruleId)).toEqual([vip.id]);
    expect((await bus.request(DryRunAutomationV1, { actor: admin, conversationId: c, event: 'label.added', label: 'other' })).matches).toEqual([]);
    await labels(c, ['vip']);
    await waitFor(async () => (await bus.request(GetWorkV1, { actor: admin, conversationId: c })).priority === 'urgent', { what: 'the rule’s action' });
    await waitFor(async () => (await ds.query(`SELECT 1 FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'note.added'`, [c])).length === 1, { what: 'note' });
    const byRule = await ds.query(`SELECT action, actor_type, actor_id, request_id FROM routing.audit_entry WHERE conversation_id = $1 AND actor_id = $2 ORDER BY seq`, [c, `automation:${vip.id}`]);
    expect(byRule.map((e: { action: string }) => e.action)).toEqual(['conversation.priority', 'note.added']);
    expect(byRule[0]).toMatchObject({ actor_type: 'system', request_id: expect.stringContaining(`automation:${vip.id}:`) });

    // x → y and y → x would trigger each other: the second rule is refused with the path
    const ping = await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: { name: 'ping', event: 'label.added', conditions: { labels: ['ping'] }, actions: [{ type: 'removeLabels', labels: ['ping'] }, { type: 'addLabels', labels: ['pong'] }] },
    });
    const pongRule = { name: 'pong', event: 'label.added' as const, conditions: { labels: ['pong'] }, actions: [{ type: 'removeLabels' as const, labels: ['pong'] }, { type: 'addLabels' as const, labels: ['ping'] }] };
    await expect(bus.request(CreateAutomationRuleV1, { actor: admin, rule: pongRule })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('pong → ping') });
    // written past the check (as if stored before): at run time the chain stops when a rule would run again in it
    const pong = randomUUID();
    await ds.query(
      `INSERT INTO routing.automation_rule (id, position, name, event, conditions, actions, created_by) VALUES ($1, 99, 'pong', 'label.added', $2, $3, 'test')`,
      [pong, JSON.stringify(pongRule.conditions), JSON.stringify(pongRule.actions)],
    );
    app.get(AutomationRulesService).enabledRules.changed(); // written around the service: tell the replicas, as a rule write does
    const looped = await open(number, true);
    await labels(looped, ['ping']);
    const rule = async (id: string) => (await bus.request(ListAutomationRulesV1, { actor: admin })).items.find((r) => r.id === id)!;
    await waitFor(async () => (await rule(ping.id)).loopsStopped === 1, { what: 'the loop stopped' });
    expect(await rule(ping.id)).toMatchObject({ runCount: 1, errorCount: 0 });
    expect(await rule(pong)).toMatchObject({ runCount: 1, loopsStopped: 0 });
    expect((await bus.request(GetWorkV1, { actor: admin, conversationId: looped })).labels).toEqual(['ping']);
  });

  it('a rule or reply created, edited or disabled on one routing replica applies to the very next event another replica handles', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1444${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    // a second replica that only writes rules (its consumers and responders stopped): every event and request goes to `app`
    const writer = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    try {
      await writer.get(Bus).stopConsumers();
      const rules = writer.get(AutomationRulesService);
      const c = await open(number, true);
      const priority = async () => (await bus.request(GetWorkV1, { actor: admin, conversationId: c })).priority;
      const setLabels = async (next: string[]) => {
        const w = await bus.request(GetWorkV1, { actor: admin, conversationId: c });
        await bus.request(SetLabelsV1, { actor: admin, conversationId: c, version: w.version, labels: next });
      };
      const marks = async () => (await ds.query(`SELECT 1 FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'note.added'`, [c])).length;
      // `app` has read its rules (none of these) before they are written elsewhere
      expect(await app.get(AutomationRulesService).rulesFor('label.added')).not.toContainEqual(expect.objectContaining({ conditions: { teamIds: [teamId] } }));
      const create = (rule: object) => rules.create(CreateAutomationRuleV1.request.parse({ actor: admin, rule }));
      const raise = await create({ name: 'Labelled: high', event: 'label.added', conditions: { teamIds: [teamId] }, actions: [{ type: 'setPriority', priority: 'high' }] });
      // runs after `raise` on every label (rules run in order): once its note is there, `raise` has run or been passed over
      await create({ name: 'Labelled: mark', event: 'label.added', conditions: { teamIds: [teamId] }, actions: [{ type: 'note', body: 'labelled' }] });
      await setLabels(['a']);
      await waitFor(async () => (await marks()) === 1, { what: 'the first label’s rules' });
      expect(await priority()).toBe('high');
      await rules.update(UpdateAutomationRuleV1.request.parse({ actor: admin, ruleId: raise.id, patch: { actions: [{ type: 'setPriority', priority: 'low' }] } }));
      await setLabels(['a', 'b']);
      await waitFor(async () => (await marks()) === 2, { what: 'the second label’s rules' });
      expect(await priority()).toBe('low');
      await rules.setEnabled(admin, raise.id, false);
      await bus.request(SetPriorityV1, { actor: admin, conversationId: c, version: (await bus.request(GetWorkV1, { actor: admin, conversationId: c })).version, priority: 'normal' });
      await setLabels(['a', 'b', 'c']);
      await waitFor(async () => (await marks()) === 3, { what: 'the third label’s rules' });
      expect(await priority()).toBe('normal');
      // greeting/away replies likewise: an away reply put on the writer answers the next customer message here
      hoursOpen = false;
      expect(await app.get(AutoReplyService).enabledReplies.get()).not.toContainEqual(expect.objectContaining({ teamId }));
      await writer.get(AutoReplyService).put(PutAutoReplyV1.request.parse({ actor: admin, reply: { kind: 'away', teamId, text: 'Closed (set on the other replica)' } }));
      await bus.publish(MessageReceivedV1, message(c, number));
      await waitFor(() => sentTo(c).length === 1, { what: 'the away reply' });
      expect(sentTo(c)[0].message).toEqual({ type: 'text', body: 'Closed (set on the other replica)' });
    } finally {
      await writer.close();
    }
  });

  it('a rule whose broadcast a replica missed (its NATS connection was down) applies there once the connection is back', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1445${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const c = await open(number, true);
    const rules = app.get(AutomationRulesService);
    const nats = app.get(Bus);
    if (!(nats instanceof NatsBus)) throw new Error('routing runs on NATS here');
    // a fresh copy: dropped here and by its own broadcast coming back, then read and kept (the same copy twice)
    const generation = () => rules.enabledRules['generation'];
    const before = generation();
    rules.enabledRules.changed();
    await waitFor(() => generation() >= before + 2, { what: 'its own broadcast back' });
    const kept = await rules.enabledRules.get();
    expect(await rules.enabledRules.get()).toBe(kept);
    const ours = expect.objectContaining({ conditions: { teamIds: [teamId] } });
    expect(kept.get('label.added') ?? []).not.toContainEqual(ours);
    // stored on another replica while this one was disconnected: the broadcast never reached it
    await ds.query(
      `INSERT INTO routing.automation_rule (id, position, name, event, conditions, actions, created_by) VALUES ($1, 98, 'while away', 'label.added', $2, $3, 'test')`,
      [randomUUID(), JSON.stringify({ teamIds: [teamId] }), JSON.stringify([{ type: 'note', body: 'written during the disconnect' }])],
    );
    expect(await rules.enabledRules.get()).toBe(kept);
    const back = (async () => {
      for await (const s of nats.connection.status()) if (s.type === Events.Reconnect) return;
    })();
    await nats.connection.reconnect();
    await back;
    // the next event after the reconnect sees the rule (not up to 30 s later, when the copy would be read again anyway)
    const w = await bus.request(GetWorkV1, { actor: admin, conversationId: c });
    await bus.request(SetLabelsV1, { actor: admin, conversationId: c, version: w.version, labels: ['x'] });
    await waitFor(async () => (await ds.query(`SELECT 1 FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'note.added'`, [c])).length === 1, {
      what: 'the rule written during the disconnect',
    });
  });

  it('automation rules on an SLA breach: raise priority and notify the team’s managers, as the rule', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1999${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const r = await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: { name: 'Breach escalates', event: 'sla.breach', conditions: { teamIds: [teamId] }, actions: [{ type: 'setPriority', priority: 'urgent' }, { type: 'notify', teamManagers: true, title: 'SLA breached: take a look' }] },
    });
    const c = await open(number, true);
    const breach = (level: string) =>
      bus.publish(SlaEscalatedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), conversationId: c, teamId, target: 'firstResponse', level, dueAt: null, actions: [], late: false });
    await breach('warning'); // not this rule's event
    await breach('breach');
    await waitFor(async () => (await bus.request(GetWorkV1, { actor: admin, conversationId: c })).priority === 'urgent', { what: 'priority raised' });
    const notices = await waitFor(
      async () => {
        const rows = await ds.query(`SELECT payload FROM routing.outbox WHERE subject = 'inbox.notice.requested.v1' AND payload->>'conversationId' = $1 AND payload->>'title' = $2`, [
          c,
          'SLA breached: take a look',
        ]);
        return rows.length ? rows : null;
      },
      { what: 'notice' },
    );
    expect(notices).toHaveLength(1);
    expect(notices[0].payload).toMatchObject({ audience: { teamManagersOf: teamId }, data: { by: `automation:${r.id}` } });
    const rule = (await bus.request(ListAutomationRulesV1, { actor: admin })).items.find((x) => x.id === r.id)!;
    expect(rule).toMatchObject({ runCount: 1, errorCount: 0 });
  });

  it('automation rules with keyword, contact-attribute and business-hours conditions; snooze action', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1444${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: {
        name: 'Gold refunds at night',
        event: 'message.received',
        conditions: { teamIds: [teamId], keywords: ['refund'], contactAttributes: { tier: 'GOLD' }, businessHours: 'closed' },
        actions: [{ type: 'addLabels', labels: ['night-refund'] }, { type: 'snooze', minutes: 30 }],
      },
    });
    hoursOpen = false;
    const gold = await open(number, true, { tier: 'gold' });
    const plain = await open(number, true, { tier: 'silver' });
    const dry = (conversationId: string, text: string) => bus.request(DryRunAutomationV1, { actor: admin, conversationId, event: 'message.received', text });
    expect((await dry(gold, 'I want a refund please')).matches.map((m) => m.name)).toEqual(['Gold refunds at night']);
    expect((await dry(gold, 'refunded?')).matches).toEqual([]); // whole words
    expect((await dry(plain, 'I want a refund')).matches).toEqual([]);
    hoursOpen = true;
    expect((await dry(gold, 'I want a refund')).matches).toEqual([]);
    hoursOpen = false;
    await bus.publish(MessageReceivedV1, { ...message(gold, number), text: 'I want a refund please' });
    const w = await waitFor(
      async () => {
        const x = await bus.request(GetWorkV1, { actor: admin, conversationId: gold });
        return x.status === 'snoozed' ? x : null;
      },
      { what: 'snoozed by the rule' },
    );
    expect(w.labels).toEqual(['night-refund']);
    expect(new Date(w.snoozeUntil!).getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
  });

  it('automation rules on idle conversations: once per quiet spell, again after new activity', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1333${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    await expect(bus.request(CreateAutomationRuleV1, { actor: admin, rule: { name: 'x', event: 'conversation.idle', actions: [{ type: 'note', body: 'x' }] } })).rejects.toThrow('idleMinutes');
    const idle = await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: { name: 'Quiet for 2 h', event: 'conversation.idle', conditions: { teamIds: [teamId], idleMinutes: 120 }, actions: [{ type: 'note', body: 'Quiet for two hours' }] },
    });
    const c = await open(number, true);
    const sweeper = app.get(AutomationRulesService);
    const notes = async () => (await ds.query(`SELECT 1 FROM routing.audit_entry WHERE conversation_id = $1 AND actor_id = $2`, [c, `automation:${idle.id}`])).length;
    await sweeper.sweepIdle();
    expect(await notes()).toBe(0);
    app.get(RoutingClock).advance(121 * 60_000);
    await sweeper.sweepIdle();
    await sweeper.sweepIdle();
    expect(await notes()).toBe(1);
    // new activity starts a new quiet spell
    await ds.query(`UPDATE routing.conversation_work SET activity_at = $2 WHERE conversation_id = $1`, [c, app.get(RoutingClock).now()]);
    await sweeper.sweepIdle();
    expect(await notes()).toBe(1);
    app.get(RoutingClock).advance(121 * 60_000);
    await sweeper.sweepIdle();
    expect(await notes()).toBe(2);
  });

  it('automation rules reply to the customer as the system, with a key per trigger (a redelivery resends nothing new)', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1222${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const r = await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: { name: 'Opening hours', event: 'message.received', conditions: { teamIds: [teamId], keywords: ['hours'] }, actions: [{ type: 'reply', text: 'We are open 9:00–17:00.' }] },
    });
    const c = await open(number, true);
    const m = { ...message(c, number), text: 'what are your hours?' };
    await bus.publish(MessageReceivedV1, m);
    await waitFor(() => sentTo(c).length === 1, { what: 'the rule’s reply' });
    expect(sentTo(c)[0]).toMatchObject({ senderId: null, senderName: 'Automation: Opening hours', message: { type: 'text', body: 'We are open 9:00–17:00.' } });
    await app.get(AutomationRulesService).handle({ event: 'message.received', key: m.eventId, conversationId: c, text: m.text }, undefined, true);
    expect(sentTo(c).map((x) => x.idempotencyKey)).toEqual([`automation:${r.id}:${m.eventId}:0`, `automation:${r.id}:${m.eventId}:0`]);
  });

  it('automation rules call integrators: the webhook action publishes automation.triggered for the event-webhook machinery', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1111${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const r = await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: { name: 'Tell the CRM', event: 'message.received', conditions: { teamIds: [teamId], keywords: ['invoice'] }, actions: [{ type: 'webhook', name: 'crm-invoice' }] },
    });
    const c = await open(number, true);
    await bus.publish(MessageReceivedV1, { ...message(c, number), text: 'where is my invoice' });
    const rows = await waitFor(
      async () => {
        const x = await ds.query(`SELECT payload FROM routing.outbox WHERE subject = 'inbox.automation.triggered.v1' AND payload->>'conversationId' = $1`, [c]);
        return x.length ? x : null;
      },
      { what: 'automation.triggered' },
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].payload).toMatchObject({ ruleId: r.id, ruleName: 'Tell the CRM', name: 'crm-invoice', trigger: 'message.received', teamId, ownerId: null });
    expect(INTEGRATOR_EVENT_SUBJECTS['automation.triggered']).toBe('inbox.automation.triggered.v1');
  });

  it('sendCanned: a rule sends the filled canned response as the system, audited as the rule; outside the window it is refused, counted, shown on the rule, and the conversation goes on', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1333${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    // the gateway's part (it owns canned responses): fill {{contact.name}} / {{agent.name}}
    const CANNED = randomUUID();
    const asked: Array<RequestOf<typeof RenderCannedV1>> = [];
    renderCanned = (q) => {
      asked.push(q);
      if (q.cannedResponseId !== CANNED) throw new NotFoundError('no such canned response');
      return q.agentId ? { text: `Hi Ana, this is agent ${q.agentId.slice(0, 4)}.`, missing: [] } : { text: 'Hi Ana, this is .', missing: ['agent.name'] };
    };
    const greet = await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: { name: 'Refund answer', event: 'message.received', conditions: { teamIds: [teamId], keywords: ['refund'] }, actions: [{ type: 'sendCanned', cannedResponseId: CANNED }] },
    });
    const label = await bus.request(CreateAutomationRuleV1, {
      actor: admin,
      rule: { name: 'Label refunds', event: 'message.received', conditions: { teamIds: [teamId], keywords: ['refund'] }, actions: [{ type: 'addLabels', labels: ['refund'] }] },
    });
    const rule = async (id: string) => (await bus.request(ListAutomationRulesV1, { actor: admin })).items.find((r) => r.id === id)!;

    // owned by Ana: {{agent.name}} is the owner's; sent as the system, one audit entry naming the rule
    const ana = user('agent', [teamId]);
    const c = await open(number, true);
    await bus.request(ClaimV1, { actor: ana, conversationId: c, version: (await bus.request(GetWorkV1, { actor: admin, conversationId: c })).version });
    const m = { ...message(c, number), text: 'I want a refund' };
    await bus.publish(MessageReceivedV1, m);
    await waitFor(() => sentTo(c).length === 1, { what: 'the canned reply' });
    expect(sentTo(c)[0]).toMatchObject({ senderId: null, senderName: 'Automation: Refund answer', message: { type: 'text', body: `Hi Ana, this is agent ${ana.id.slice(0, 4)}.` } });
    expect(asked.at(-1)).toMatchObject({ cannedResponseId: CANNED, agentId: ana.id });
    const audited = await waitFor(
      async () => {
        const rows = await ds.query(`SELECT actor_type, actor_id, after FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'automation.message.sent'`, [c]);
        return rows.length ? rows : null;
      },
      { what: 'the audit entry' },
    );
    expect(audited).toEqual([
      { actor_type: 'system', actor_id: `automation:${greet.id}`, after: { rule: { id: greet.id, name: 'Refund answer' }, type: 'sendCanned', cannedResponseId: CANNED, sendId: expect.any(String) } },
    ]);
    // a redelivery of the same trigger sends the same key (notifications dedupes) and audits nothing new
    await app.get(AutomationRulesService).handle({ event: 'message.received', key: m.eventId, conversationId: c, text: m.text }, undefined, true);
    expect(new Set(sentTo(c).map((x) => x.idempotencyKey))).toEqual(new Set([`automation:${greet.id}:${m.eventId}:0`]));

    // the customer's window has closed: notifications refuses; the failure is counted on the rule with its reason,
    // the next rule still runs and the conversation is untouched otherwise
    const late = await open(number, true);
    windowClosed.add(late);
    await bus.request(ClaimV1, { actor: ana, conversationId: late, version: (await bus.request(GetWorkV1, { actor: admin, conversationId: late })).version });
    await bus.publish(MessageReceivedV1, { ...message(late, number), text: 'refund please' });
    await waitFor(async () => (await rule(greet.id)).errorCount === 1, { what: 'the failure counted' });
    expect((await rule(greet.id)).lastError).toContain('within 24 h');
    await waitFor(async () => (await bus.request(GetWorkV1, { actor: admin, conversationId: late })).labels.includes('refund'), { what: 'the next rule' });
    expect(sentTo(late)).toEqual([]);
    expect(await bus.request(GetWorkV1, { actor: admin, conversationId: late })).toMatchObject({ status: 'open', ownerId: ana.id });
    expect((await ds.query(`SELECT 1 FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'automation.message.sent'`, [late])).length).toBe(0);

    // nobody owns it: {{agent.name}} has no value, so nothing is sent (no "this is ."), counted on the rule
    const unowned = await open(number, true);
    await bus.publish(MessageReceivedV1, { ...message(unowned, number), text: 'refund' });
    await waitFor(async () => (await rule(greet.id)).errorCount === 2, { what: 'the missing placeholder counted' });
    expect((await rule(greet.id)).lastError).toContain('{{agent.name}}');
    expect(sentTo(unowned)).toEqual([]);
    expect((await rule(label.id)).runCount).toBeGreaterThanOrEqual(3);
    await bus.request(SetAutomationRuleEnabledV1, { actor: admin, ruleId: greet.id, enabled: false });
    await bus.request(SetAutomationRuleEnabledV1, { actor: admin, ruleId: label.id, enabled: false });
  });

  it('sendCanned in a macro: sent as the agent running it, audited naming the macro; someone who does not own the conversation cannot send it', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1444${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const CANNED = randomUUID();
    renderCanned = (q) => {
      if (q.cannedResponseId !== CANNED) throw new NotFoundError('no such canned response');
      return { text: `Your refund is on its way (${q.agentId === null ? '?' : 'from your agent'}).`, missing: [] };
    };
    const ana = user('agent', [teamId]);
    const ben = user('agent', [teamId]);
    const macro = await bus.request(CreateMacroV1, {
      actor: admin,
      name: 'Refund done',
      shared: true,
      steps: [
        { type: 'sendCanned', cannedResponseId: CANNED },
        { type: 'addLabels', labels: ['refunded'] },
      ],
    });
    const c = await open(number, true);
    await bus.request(ClaimV1, { actor: ana, conversationId: c, version: (await bus.request(GetWorkV1, { actor: admin, conversationId: c })).version });
    // Ben may see it but does not own it: refused (naming the owner and the step), nothing sent, nothing changed
    await expect(bus.request(RunMacroV1, { actor: ben, macroId: macro.id, conversationId: c })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('step 1 (sendCanned)'),
      details: expect.objectContaining({ ownerId: ana.id }),
    });
    expect(sentTo(c)).toEqual([]);
    expect((await bus.request(GetWorkV1, { actor: admin, conversationId: c })).labels).toEqual([]);

    const run = await bus.request(RunMacroV1, { actor: ana, macroId: macro.id, conversationId: c });
    expect(run.steps).toEqual([
      { type: 'sendCanned', changed: true },
      { type: 'addLabels', changed: true },
    ]);
    expect(run.state.labels).toEqual(['refunded']);
    expect(sentTo(c)).toEqual([
      expect.objectContaining({ senderId: ana.id, senderName: 'agent', message: { type: 'text', body: 'Your refund is on its way (from your agent).' }, idempotencyKey: expect.stringMatching(new RegExp(`^macro:${macro.id}:`)) }),
    ]);
    const sent = await ds.query(`SELECT actor_id, after FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'automation.message.sent'`, [c]);
    expect(sent).toEqual([{ actor_id: ana.id, after: { macro: { id: macro.id, name: 'Refund done' }, type: 'sendCanned', cannedResponseId: CANNED, sendId: expect.any(String) } }]);

    // outside the window: notifications refuses, the run stops with that refusal and nothing is sent
    windowClosed.add(c);
    await expect(bus.request(RunMacroV1, { actor: ana, macroId: macro.id, conversationId: c })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('within 24 h') });
    expect(sentTo(c)).toHaveLength(1);
  });
  it('sendCanned in a macro on an unassigned conversation: a send notifications refuses (window closed) claims nothing', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1222${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const CANNED = randomUUID();
    renderCanned = (q) => {
      if (q.cannedResponseId !== CANNED) throw new NotFoundError('no such canned response');
      return { text: 'We are on it.', missing: [] };
    };
    const ana = user('agent', [teamId]);
    const macro = await bus.request(CreateMacroV1, { actor: admin, name: 'On it', shared: true, steps: [{ type: 'sendCanned', cannedResponseId: CANNED }] });
    const c = await open(number, true);
    windowClosed.add(c);
    const before = await bus.request(GetWorkV1, { actor: admin, conversationId: c });
    expect(before.ownerId).toBeNull();
    await expect(bus.request(RunMacroV1, { actor: ana, macroId: macro.id, conversationId: c })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('within 24 h'),
    });
    // asked before claiming; refused: still nobody's, same version, no claim in the audit trail, nothing sent
    expect(checks.filter((x) => x.conversationId === c)).toHaveLength(1);
    expect(await bus.request(GetWorkV1, { actor: admin, conversationId: c })).toMatchObject({ ownerId: null, version: before.version });
    expect(await ds.query(`SELECT 1 FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'conversation.claimed'`, [c])).toEqual([]);
    expect(sentTo(c)).toEqual([]);
    // window open again: the same run claims it and sends, as the agent
    windowClosed.delete(c);
    const run = await bus.request(RunMacroV1, { actor: ana, macroId: macro.id, conversationId: c });
    expect(run.state.ownerId).toBe(ana.id);
    expect(sentTo(c)).toEqual([expect.objectContaining({ senderId: ana.id, message: { type: 'text', body: 'We are on it.' } })]);
  });

  it('assign: a rule makes an available agent the owner through the audited assign (naming the rule); offline or at capacity it is skipped, counted on the rule, and the other actions still run; a macro assigns as the person running it', async () => {
    const teamId = randomUUID();
    await bus.request(SetTeamRoutingV1, { actor: admin, teamId, strategy: 'manual' });
    const number = `1666${Date.now() % 1e6}`;
    await bus.request(SetNumberTeamV1, { actor: admin, phoneNumberId: number, teamId });
    const ana = user('agent', [teamId]);
    const ben = user('agent', [teamId]);
    const cara = user('agent', [teamId]);
    const ref = (a: Actor) => ({ id: a.id, name: a.name, role: a.role, teamIds: a.teamIds });
    await bus.request(SetAgentStatusV1, { actor: ana, agent: ref(ana), status: 'online' });
    await bus.request(SetAgentStatusV1, { actor: ben, agent: ref(ben), status: 'offline' });
    await bus.request(SetAgentStatusV1, { actor: cara, agent: ref(cara), status: 'online' });
    await bus.request(SetAgentCapacityV1, { actor: admin, agent: ref(cara), maxOpen: 1 });
    const rule = (name: string, keyword: string, agentId: string) =>
      bus.request(CreateAutomationRuleV1, {
        actor: admin,
        rule: { name, event: 'message.received', conditions: { teamIds: [teamId], keywords: [keyword] }, actions: [{ type: 'assign', agentId }, { type: 'addLabels', labels: [keyword] }] },
      });
    const toAna = await rule('VIP to Ana', 'vip', ana.id);
    const toBen = await rule('Billing to Ben', 'billing', ben.id);
    const toCara = await rule('Shipping to Cara', 'shipping', cara.id);
    const rules = async () => (await bus.request(ListAutomationRulesV1, { actor: admin })).items;
    const work = (c: string) => bus.request(GetWorkV1, { actor: admin, conversationId: c });

    // available: Ana owns it; the audit entry is routing's assign, by the rule
    const c1 = await open(number, true);
    await bus.publish(MessageReceivedV1, { ...message(c1, number), text: 'I am a VIP customer' });
    await waitFor(async () => (await work(c1)).labels.includes('vip'), { what: 'the rule ran' });
    expect(await work(c1)).toMatchObject({ ownerId: ana.id, teamId });
    const assigned = await ds.query(`SELECT actor_type, actor_id, actor_name, after->>'ownerId' AS owner FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'conversation.assigned'`, [c1]);
    expect(assigned).toEqual([{ actor_type: 'system', actor_id: `automation:${toAna.id}`, actor_name: 'Automation: VIP to Ana', owner: ana.id }]);
    expect((await rules()).find((r) => r.id === toAna.id)).toMatchObject({ errorCount: 0, lastError: null });

    // offline: not assigned, counted with the reason, the label still added, the conversation goes on
    const c2 = await open(number, true);
    await bus.publish(MessageReceivedV1, { ...message(c2, number), text: 'billing question' });
    await waitFor(async () => (await work(c2)).labels.includes('billing'), { what: 'the next action' });
    expect((await work(c2)).ownerId).toBeNull();
    await waitFor(async () => (await rules()).find((r) => r.id === toBen.id)!.runCount === 1, { what: 'the run counted' });
    expect((await rules()).find((r) => r.id === toBen.id)).toMatchObject({ errorCount: 1, lastError: expect.stringContaining(`user ${ben.id} is offline`) });

    // at capacity (Cara's maximum is 1 and she owns one): not assigned, counted
    const owned = await open(number, true);
    await bus.request(ClaimV1, { actor: cara, conversationId: owned, version: (await work(owned)).version });
    const c3 = await open(number, true);
    await bus.publish(MessageReceivedV1, { ...message(c3, number), text: 'shipping delay' });
    await waitFor(async () => (await work(c3)).labels.includes('shipping'), { what: 'the next action' });
    expect((await work(c3)).ownerId).toBeNull();
    await waitFor(async () => (await rules()).find((r) => r.id === toCara.id)!.errorCount === 1, { what: 'the failure counted' });
    expect((await rules()).find((r) => r.id === toCara.id)!.lastError).toContain('1 open conversations (maximum 1); not assigned');
    expect(await ds.query(`SELECT 1 FROM routing.audit_entry WHERE conversation_id = ANY($1) AND action = 'conversation.assigned'`, [[c2, c3]])).toEqual([]);
    for (const r of [toAna, toBen, toCara]) await bus.request(SetAutomationRuleEnabledV1, { actor: admin, ruleId: r.id, enabled: false });

    // a macro assigns as the person running it: an agent may not assign (refused, naming the step), the manager may
    const manager = user('manager', [teamId]);
    const macro = await bus.request(CreateMacroV1, { actor: manager, name: 'To Ana', shared: true, steps: [{ type: 'assign', agentId: ana.id }] });
    await expect(bus.request(RunMacroV1, { actor: cara, macroId: macro.id, conversationId: c2 })).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('step 1 (assign)') });
    const run = await bus.request(RunMacroV1, { actor: manager, macroId: macro.id, conversationId: c2 });
    expect(run).toMatchObject({ state: { ownerId: ana.id }, steps: [{ type: 'assign', changed: true }] });
    expect(await ds.query(`SELECT actor_id FROM routing.audit_entry WHERE conversation_id = $1 AND action = 'conversation.assigned'`, [c2])).toEqual([{ actor_id: manager.id }]);
  });
});
