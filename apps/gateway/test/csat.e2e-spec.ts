import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { ConversationResolvedV1, CsatAnsweredV1, EraseConversationContentV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, freePort, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { FIXTURES_DIR } from '../../../test/support/fixtures';
import { textWebhook } from '../../../test/support/webhooks';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { useWebhookRawBody } from '../src/webhooks/whatsapp/raw-body';
import { sign } from '../src/webhooks/whatsapp/signature';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { SandboxConfigSchema } from '../../sandbox/src/config';
import { SandboxModule } from '../../sandbox/src/sandbox.module';
import { SlaConfigSchema } from '../../sla/src/config';
import { SlaModule } from '../../sla/src/sla.module';

/**
 * CSAT end to end (issue 14, item 5), every service on the real PostgreSQL and NATS and the WhatsApp sandbox:
 * resolve → exactly one interactive survey at the sandbox, also when the resolved event comes again; the customer's
 * answer in the real interactive list_reply / button_reply webhook shape → the rating is stored for the conversation
 * and its owner, the conversation stays resolved, the comment right after is stored; the csat report and the
 * dashboard show the score and the response rate; a resolve outside the 24 h window sends nothing.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const APP_SECRET = 'sandbox-app-secret';
const NUMBER = '106540352242922'; // the sandbox's default number (and the fixtures')
const PASSWORD = 'agent-password-123';

/** A fixture webhook (exact bytes from Meta's docs) with this customer, message id, time and picked row. */
function interactiveReply(fixture: 'list' | 'button', o: { waId: string; rowId: string; title: string; contextWamid: string }): string {
  const body = JSON.parse(readFileSync(join(FIXTURES_DIR, 'webhooks', 'messages', `messages-interactive-${fixture}-reply.json`), 'utf8'));
  const value = body.entry[0].changes[0].value;
  value.contacts[0].wa_id = o.waId;
  const msg = value.messages[0];
  msg.from = o.waId;
  msg.id = `wamid.${randomUUID()}`;
  msg.timestamp = String(Math.floor(Date.now() / 1000));
  msg.context.id = o.contextWamid;
  const kind = `${fixture}_reply`;
  expect(msg.interactive.type).toBe(kind); // the fixture's own shape, only the values are ours
  msg.interactive[kind] = { ...msg.interactive[kind], id: o.rowId, title: o.title };
  return JSON.stringify(body);
}

describe('CSAT surveys (all services + sandbox, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  const apps: INestApplication[] = [];
  let gatewayBase: string;
  let sandboxBase: string;
  let peer: NatsBus;
  let nc: NatsConnection;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let team: string;
  let rated4 = ''; // the conversation rated 4 with a comment
  const api = () => request(gatewayBase);
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });
  const webhook = (raw: string) => api().post('/webhooks/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', sign(raw, APP_SECRET)).send(raw).expect(200);
  const sent = async (waId: string) => (await request(sandboxBase).get('/sandbox/sent').query({ to: waId }).expect(200)).body.messages as any[];
  const surveysOf = async (conversationId: string) => (await api().get(`/api/v1/conversations/${conversationId}/csat`).set(as('admin')).expect(200)).body.items as any[];
  const conversation = async (id: string) => (await api().get(`/api/v1/conversations/${id}`).set(as('admin')).expect(200)).body;
  const audit = async (id: string) => ((await api().get(`/api/v1/audit?conversationId=${id}`).set(as('admin')).expect(200)).body.items as any[]).map((e) => e.action);

  /** Until routing's survey consumer has handled every resolved event published so far. */
  async function surveyConsumerIdle() {
    const jsm = await nc.jetstreamManager();
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info(`${env.namespace}_INBOX_EVENTS`, `${env.namespace}_routing-csat-on-resolved`);
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      { what: 'the CSAT consumer idle', timeoutMs: 30_000 },
    );
  }

  /** A customer writes (through the sandbox), ann claims and resolves; returns the conversation id. */
  async function resolvedConversation(waId: string, opts: { ts?: number } = {}): Promise<string> {
    if (opts.ts) await webhook(textWebhook({ phoneNumberId: NUMBER, from: waId, text: 'Old question', ts: opts.ts }));
    else await request(sandboxBase).post(`/sandbox/customers/${waId}/messages`).send({ text: 'Where is my parcel?' }).expect(200);
    const conv = await waitFor(
      async () => (await api().get('/api/v1/conversations?view=all&limit=200').set(as('admin'))).body.items?.find((c: any) => c.contact.waId === waId),
      { what: `conversation of ${waId}`, timeoutMs: 30_000 },
    );
    const claimed = (await api().post(`/api/v1/conversations/${conv.id}/claim`).set(as('ann')).send({ version: conv.version }).expect(200)).body;
    await api().post(`/api/v1/conversations/${conv.id}/status`).set(as('ann')).send({ status: 'resolved', version: claimed.version }).expect(200);
    return conv.id;
  }

  /** The survey at the sandbox (exactly one interactive list) and its row ids by rating. */
  async function surveyAt(waId: string) {
    const list = await waitFor(
      async () => {
        const l = (await sent(waId)).filter((m) => m.body?.type === 'interactive');
        return l.length ? l : null;
      },
      { what: `survey to ${waId}`, timeoutMs: 30_000 },
    );
    expect(list).toHaveLength(1);
    const rows = list[0].body.interactive.action.sections[0].rows as { id: string; title: string }[];
    return { wamid: list[0].waMessageId as string, rows, row: (n: number) => rows.find((r) => r.id.split(':')[2] === String(n))! };
  }

  beforeAll(async () => {
    const [gatewayPort, sandboxPort] = [await freePort(), await freePort()];
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_ACCESS_TOKEN: 'sandbox-token', MEDIA_DIR: join(tmpdir(), `csat-${randomUUID()}`) });
    const sandbox = await startApp(SandboxModule.register(parseConfig(SandboxConfigSchema, { NODE_ENV: 'test', SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${gatewayPort}/webhooks/whatsapp` })), { listen: false });
    await sandbox.listen(sandboxPort, '127.0.0.1');
    apps.push(sandbox);
    sandboxBase = `http://127.0.0.1:${sandboxPort}`;
    const withGraph = { ...env.env, GRAPH_API_BASE_URL: sandboxBase };
    apps.push(await startApp(IngestModule.register(parseConfig(IngestConfigSchema, withGraph))));
    apps.push(await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env))));
    apps.push(await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, withGraph))));
    apps.push(await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env))));
    const cfg = parseConfig(GatewayConfigSchema, env.env);
    const gateway = await startApp(GatewayModule.register(cfg), { setup: (a) => useWebhookRawBody(a, cfg.WEBHOOK_MAX_BYTES) });
    await gateway.listen(gatewayPort, '127.0.0.1');
    apps.push(gateway);
    gatewayBase = `http://127.0.0.1:${gatewayPort}`;
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    nc = await connect({ servers: TEST_NATS_URL });

    tokens.admin = (await api().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    team = (await api().post('/api/v1/teams').set(as('admin')).send({ name: 'Support' }).expect(201)).body.id;
    await api().put(`/api/v1/numbers/${NUMBER}/team`).set(as('admin')).send({ teamId: team }).expect(200);
    for (const [key, role] of [['ann', 'agent'], ['mia', 'manager']] as const) {
      ids[key] = (await api().post('/api/v1/users').set(as('admin')).send({ email: `${key}@example.test`, name: key, password: PASSWORD, role, teamIds: [team] }).expect(201)).body.id;
      tokens[key] = (await api().post('/api/v1/auth/login').send({ email: `${key}@example.test`, password: PASSWORD }).expect(200)).body.accessToken;
    }
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await peer?.close();
    for (const a of apps.reverse()) await a.close();
    await env?.cleanup();
  });

  it('settings: managers for their team, agents 403, bad input 400 with the field named', async () => {
    const put = (body: object, who = 'mia') => api().put('/api/v1/csat/settings').set(as(who)).send(body);
    await put({ teamId: team }, 'ann').expect(403);
    expect((await put({ teamId: team, phoneNumberId: NUMBER }).expect(400)).body.message).toContain('exactly one');
    expect(JSON.stringify((await put({ teamId: team, buttonText: 'x'.repeat(21) }).expect(400)).body.message)).toContain('buttonText');
    expect(JSON.stringify((await put({ teamId: team, commentMinutes: 0 }).expect(400)).body.message)).toContain('commentMinutes');
    await put({ phoneNumberId: NUMBER }).expect(403); // a number's survey is for admins
    const s = (await put({ teamId: team, question: 'How did we do?', commentPrompt: 'Anything we could do better? Just write it here.', commentMinutes: 15 }).expect(200)).body;
    expect(s).toMatchObject({ teamId: team, enabled: true, question: 'How did we do?', buttonText: 'Rate us', commentMinutes: 15, sentCount: 0 });
    expect((await api().get('/api/v1/csat/settings').set(as('mia')).expect(200)).body.items).toEqual([s]);
    await api().get('/api/v1/csat/settings').set(as('ann')).expect(403);
  });

  it('resolve → exactly one survey even when the resolved event comes again; a list_reply rates without reopening; the comment is kept', async () => {
    const waId = '4917000000001';
    const id = await resolvedConversation(waId);
    rated4 = id;
    const survey = await surveyAt(waId);
    expect(survey.rows.map((r) => r.title)).toEqual(['5 – Excellent', '4 – Good', '3 – Okay', '2 – Poor', '1 – Very poor']);
    const [s] = await waitFor(async () => ((await surveysOf(id))[0]?.status === 'sent' ? surveysOf(id) : null), { what: 'survey sent' });
    expect(s).toMatchObject({ conversationId: id, episode: 1, teamId: team, agentId: ids.ann, status: 'sent', rating: null });
    expect(survey.row(4).id).toBe(`csat:${s.surveyId}:4:15`);

    // the same resolved event delivered again (a new message id defeats the stream's dedupe), and another resolve event
    const original = { eventId: randomUUID(), occurredAt: new Date().toISOString(), conversationId: id, resolvedBy: ids.ann };
    await peer.publish(ConversationResolvedV1, original, { msgId: randomUUID() });
    await peer.publish(ConversationResolvedV1, original, { msgId: randomUUID() });
    await peer.publish(ConversationResolvedV1, { ...original, eventId: randomUUID() });
    await surveyConsumerIdle();
    expect((await sent(waId)).filter((m) => m.body?.type === 'interactive')).toHaveLength(1);
    expect(await surveysOf(id)).toHaveLength(1);

    // the customer picks "4 – Good" in the real list_reply shape
    await webhook(interactiveReply('list', { waId, rowId: survey.row(4).id, title: survey.row(4).title, contextWamid: survey.wamid }));
    const rated = await waitFor(async () => ((await surveysOf(id))[0].rating !== null ? (await surveysOf(id))[0] : null), { what: 'rating stored' });
    expect(rated).toMatchObject({ rating: 4, agentId: ids.ann, comment: null });
    // the comment prompt goes out once
    await waitFor(async () => (await sent(waId)).some((m) => m.body?.type === 'text' && m.body.text.body.startsWith('Anything we could do better')), { what: 'comment prompt' });
    await request(sandboxBase).post(`/sandbox/customers/${waId}/messages`).send({ text: 'Quick and friendly, thanks!' }).expect(200);
    const commented = await waitFor(async () => ((await surveysOf(id))[0].comment ? (await surveysOf(id))[0] : null), { what: 'comment stored' });
    expect(commented).toMatchObject({ rating: 4, comment: 'Quick and friendly, thanks!' });

    // still resolved, the answer is in the thread, and the timeline says what happened
    expect((await conversation(id)).status).toBe('resolved');
    const actions = await audit(id);
    expect(actions).toEqual(expect.arrayContaining(['csat.sent', 'csat.rated', 'csat.commented']));
    expect(actions).not.toContain('conversation.reopened');
    const msgs = (await api().get(`/api/v1/conversations/${id}/messages`).set(as('admin')).expect(200)).body.items as any[];
    expect(msgs.map((m) => m.text)).toEqual(expect.arrayContaining(['4 – Good', 'Quick and friendly, thanks!']));

    // anything else behaves as before: the next message reopens the conversation
    await request(sandboxBase).post(`/sandbox/customers/${waId}/messages`).send({ text: 'One more question' }).expect(200);
    await waitFor(async () => (await conversation(id)).status === 'open', { what: 'reopened by a later message' });
    expect((await surveysOf(id))[0].comment).toBe('Quick and friendly, thanks!');
  }, 120_000);

  it('a button_reply rates too; a survey never answered counts in the response rate; the csat report and the dashboard show both', async () => {
    const waB = '4917000000002';
    const b = await resolvedConversation(waB);
    const surveyB = await surveyAt(waB);
    await webhook(interactiveReply('button', { waId: waB, rowId: surveyB.row(2).id, title: surveyB.row(2).title, contextWamid: surveyB.wamid }));
    await waitFor(async () => (await surveysOf(b))[0]?.rating === 2, { what: 'rating 2 stored' });
    expect((await conversation(b)).status).toBe('resolved');

    const waC = '4917000000003';
    const c = await resolvedConversation(waC);
    // racing the first send: four more resolved events for the same episode, handled in parallel (consumer concurrency 4)
    await Promise.all(
      [1, 2, 3, 4].map(() => peer.publish(ConversationResolvedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), conversationId: c, resolvedBy: ids.ann })),
    );
    await surveyConsumerIdle();
    await surveyAt(waC); // exactly one interactive message at the sandbox
    await waitFor(async () => (await surveysOf(c))[0]?.status === 'sent', { what: 'survey C sent' });

    // surveys sent: 3 (first test, b, c); rated: 2 (4 and 2) → response rate 66.67 %, score (4–5) 50 %, average 3
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const report = await waitFor(
      async () => {
        const r = (await api().get('/api/v1/reports/csat').query({ from, to }).set(as('mia')).expect(200)).body;
        return r.sent === 3 && r.rated === 2 ? r : null;
      },
      { what: 'csat report', timeoutMs: 30_000 },
    );
    expect(report).toMatchObject({ kind: 'csat', sent: 3, rated: 2, responseRatePercent: 66.67, scorePercent: 50, averageRating: 3 });
    expect(report.distribution).toEqual([1, 2, 3, 4, 5].map((rating) => ({ rating, count: rating === 2 || rating === 4 ? 1 : 0 })));
    expect(report.byAgent).toEqual([{ agentId: ids.ann, sent: 3, rated: 2, responseRatePercent: 66.67, scorePercent: 50, averageRating: 3 }]);
    expect(report.byTeam).toEqual([{ teamId: team, sent: 3, rated: 2, responseRatePercent: 66.67, scorePercent: 50, averageRating: 3 }]);
    const csv = (await api().get('/api/v1/reports/csat').query({ from, to, format: 'csv' }).set(as('mia')).expect(200)).text;
    expect(csv).toContain(`agent,${ids.ann},3,2,66.67,50,3`);
    const raw = (await api().get('/api/v1/reports/csat/raw').query({ from, to, format: 'csv' }).set(as('mia')).expect(200)).text;
    expect(raw).toContain('Quick and friendly, thanks!');
    await api().get('/api/v1/reports/csat').query({ from, to }).set(as('ann')).expect(403);

    // GDPR erasure of the conversation's content also erases the survey comment, in routing and in the reports copy
    await peer.request(EraseConversationContentV1, { conversationIds: [rated4] });
    expect((await surveysOf(rated4))[0]).toMatchObject({ rating: 4, comment: '[erased]' });
    await waitFor(
      async () => {
        const text = (await api().get('/api/v1/reports/csat/raw').query({ from, to, format: 'csv' }).set(as('mia')).expect(200)).text;
        return !text.includes('Quick and friendly') && text.includes('[erased]');
      },
      { what: 'comment erased in the report rows' },
    );

    const dash = (await api().get('/api/v1/dashboard').set(as('mia')).expect(200)).body;
    expect(dash.teams.find((t: any) => t.teamId === team).csatLast7Days).toEqual({ sent: 3, rated: 2, scorePercent: 50, responseRatePercent: 66.67 });
  }, 120_000);

  it('window closed → no survey (recorded as not sent, with the reason)', async () => {
    const waD = '4917000000004';
    const d = await resolvedConversation(waD, { ts: Math.floor(Date.now() / 1000) - 25 * 3600 });
    const [s] = await waitFor(async () => ((await surveysOf(d))[0]?.status === 'not_sent' ? surveysOf(d) : null), { what: 'survey refused', timeoutMs: 30_000 });
    expect(s.reason).toContain('only an approved template can be sent');
    await surveyConsumerIdle();
    expect(await sent(waD)).toHaveLength(0);
    expect(await audit(d)).toContain('csat.not-sent');
  }, 60_000);
  it('a comment handled before its rating is kept (retried until the rating is stored); one whose rating never comes is dead-lettered', async () => {
    const answer = (surveyId: string, conversationId: string, o: { rating?: number; comment?: string }) =>
      peer.publish(CsatAnsweredV1, {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        conversationId,
        phoneNumberId: NUMBER,
        messageId: randomUUID(),
        surveyId,
        rating: o.rating ?? null,
        comment: o.comment ?? null,
        answeredAt: new Date().toISOString(),
      });
    const jsm = await nc.jetstreamManager();
    const answers = () => jsm.consumers.info(`${env.namespace}_INBOX_EVENTS`, `${env.namespace}_routing-csat-answers`);

    const waE = '4917000000005';
    const e = await resolvedConversation(waE);
    await surveyAt(waE);
    const [s] = await waitFor(async () => ((await surveysOf(e))[0]?.status === 'sent' ? surveysOf(e) : null), { what: 'survey E sent' });
    // the comment first (the answers consumer runs 4 at a time, so this order happens); it is handled before the rating exists
    await answer(s.surveyId, e, { comment: 'The comment came first' });
    await waitFor(
      async () => {
        const ci = await answers();
        return ci.num_pending === 0 && (ci.num_ack_pending === 0 || ci.num_redelivered > 0);
      },
      { what: 'the comment handled once', timeoutMs: 30_000 },
    );
    expect((await surveysOf(e))[0]).toMatchObject({ rating: null, comment: null });
    await answer(s.surveyId, e, { rating: 5 });
    const done = await waitFor(async () => ((await surveysOf(e))[0].comment ? (await surveysOf(e))[0] : null), { what: 'comment stored after its rating', timeoutMs: 30_000 });
    expect(done).toMatchObject({ rating: 5, comment: 'The comment came first' });
    expect(await audit(e)).toEqual(expect.arrayContaining(['csat.rated', 'csat.commented']));

    // a comment whose survey is never rated: retried a bounded number of times, then recorded as a dead letter
    const waF = '4917000000006';
    const f = await resolvedConversation(waF);
    await surveyAt(waF);
    const [sf] = await waitFor(async () => ((await surveysOf(f))[0]?.status === 'sent' ? surveysOf(f) : null), { what: 'survey F sent' });
    await answer(sf.surveyId, f, { comment: 'No rating ever' });
    const letter = await waitFor(
      async () => (await peer.readDeadLetters(CsatAnsweredV1.subject)).find((l) => l.payload.includes(sf.surveyId)),
      { what: 'the orphan comment dead-lettered', timeoutMs: 60_000 },
    );
    expect(letter).toMatchObject({ consumer: expect.stringContaining('routing-csat-answers'), error: expect.stringContaining('before its rating') });
    expect((await surveysOf(f))[0]).toMatchObject({ rating: null, comment: null });
  }, 120_000);
  it('CSAT setting changes are audited with before and after (created, updated, deleted)', async () => {
    const put = (body: object) => api().put('/api/v1/csat/settings').set(as('mia')).send(body).expect(200);
    const before = (await api().get('/api/v1/csat/settings').set(as('mia')).expect(200)).body.items.find((x: any) => x.teamId === team);
    const changed = (await put({ teamId: team, question: 'How was it?', commentPrompt: 'Tell us more.', commentMinutes: 10 })).body;
    await api().delete(`/api/v1/csat/settings/${changed.id}`).set(as('mia')).expect(200);
    const entries = (await api().get('/api/v1/audit?limit=200').set(as('admin')).expect(200)).body.items as Array<{ action: string; teamId: string | null; actor: { id: string }; before: any; after: any }>;
    expect(entries.find((e) => e.action === 'csat.setting.created')).toMatchObject({ teamId: team, actor: { id: ids.mia }, before: null, after: { teamId: team, question: 'How did we do?' } });
    expect(entries.find((e) => e.action === 'csat.setting.updated')).toMatchObject({
      teamId: team,
      actor: { id: ids.mia },
      before: { id: before.id, question: 'How did we do?', commentMinutes: 15 },
      after: { id: before.id, question: 'How was it?', commentMinutes: 10 },
    });
    expect(entries.find((e) => e.action === 'csat.setting.deleted')).toMatchObject({ teamId: team, actor: { id: ids.mia }, before: { id: before.id, question: 'How was it?' }, after: null });
  });
});
