import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import WebSocket from 'ws';
import { parseConfig } from '@app/config';
import { ConversationOpenedV1, MessageReceivedV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { RealtimeHub } from '../src/realtime/realtime.hub';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';

const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const SALES_NUMBER = '1555000101';
const SUPPORT_NUMBER = '1555000102';

interface Frame {
  type: string;
  seq?: number;
  event?: string;
  conversationId?: string | null;
  cursor?: number;
  data?: any;
}

class TestSocket {
  frames: Frame[] = [];
  closed: { code: number } | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.frames.push(JSON.parse(String(d))));
    ws.on('close', (code) => (this.closed = { code }));
  }
  events(conversationId: string) {
    return this.frames.filter((f) => f.type === 'event' && f.conversationId === conversationId);
  }
  until(pred: (f: Frame) => boolean, what: string) {
    return waitFor(() => this.frames.find(pred), { what });
  }
}

describe('real-time WebSocket fed from JetStream (gateway + routing, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let peer: NatsBus;
  let base: string;
  const tokens: Record<string, string> = {};
  const sockets: TestSocket[] = [];
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  function open(token: string | null, since?: number): Promise<TestSocket> {
    const q = new URLSearchParams();
    if (token) q.set('access_token', token);
    if (since !== undefined) q.set('since', String(since));
    const ws = new WebSocket(`${base}/api/v1/realtime?${q}`);
    return new Promise((resolve, reject) => {
      const s = new TestSocket(ws);
      ws.on('open', () => {
        sockets.push(s);
        resolve(s);
      });
      ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.on('error', reject);
    });
  }

  async function conversation(phoneNumberId: string): Promise<string> {
    const conversationId = randomUUID();
    await peer.publish(ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      conversationId,
      phoneNumberId,
      contactId: randomUUID(),
      contactName: null,
      waId: '4915100000000',
      userId: null,
      reopened: false,
    });
    await waitFor(async () => (await request(gateway.getHttpServer()).post(`/api/v1/conversations/${conversationId}/priority`).set(as('admin')).send({ priority: 'high', version: 1 })).status === 200, {
      what: 'work item in routing',
    });
    return conversationId;
  }

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)), { listen: true });
    base = `ws://127.0.0.1:${(gateway.getHttpServer().address() as AddressInfo).port}`;
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    const http = request.agent(gateway.getHttpServer());
    tokens.admin = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    const teams: Record<string, string> = {};
    for (const name of ['Sales', 'Support']) teams[name] = (await http.post('/api/v1/teams').set(as('admin')).send({ name }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${SALES_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Sales }).expect(200);
    await http.put(`/api/v1/numbers/${SUPPORT_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Support }).expect(200);
    for (const [who, team] of [
      ['sales', 'Sales'],
      ['support', 'Support'],
    ]) {
      await http
        .post('/api/v1/users')
        .set(as('admin'))
        .send({ email: `${who}@example.test`, name: who, password: 'agent-password-123', role: 'agent', teamIds: [teams[team]] })
        .expect(201);
      tokens[who] = (await http.post('/api/v1/auth/login').send({ email: `${who}@example.test`, password: 'agent-password-123' }).expect(200)).body.accessToken;
    }
    tokens.teams = JSON.stringify(teams);
  });
  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await peer?.close();
    await gateway?.close();
    await routing?.close();
    await env?.cleanup();
  });

  it('refuses a connection without a valid token', async () => {
    await expect(open(null)).rejects.toThrow('HTTP 401');
    await expect(open('sba_not-a-token')).rejects.toThrow('HTTP 401');
  });

  it('sends each client only the events of conversations it may see, including messages looked up in routing', async () => {
    const sales = await open(tokens.sales);
    const support = await open(tokens.support);
    await sales.until((f) => f.type === 'ready', 'ready');
    const salesConv = await conversation(SALES_NUMBER);
    const supportConv = await conversation(SUPPORT_NUMBER);
    await peer.publish(MessageReceivedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      conversationId: salesConv,
      phoneNumberId: SALES_NUMBER,
      contactId: randomUUID(),
      messageId: randomUUID(),
      waMessageId: 'wamid.rt1',
      direction: 'inbound',
      origin: 'customer',
      type: 'text',
      text: 'hi',
      sentAt: new Date().toISOString(),
    });
    await sales.until((f) => f.event === 'message.created' && f.conversationId === salesConv, 'message event for Sales');
    await support.until((f) => f.event === 'conversation.updated' && f.conversationId === supportConv, 'Support sees its conversation');
    // the last event (the message) was published after everything else: once Sales has it, Support has had its chance
    await waitFor(() => sales.frames.length > 0 && support.events(supportConv).length > 0);
    expect(support.events(salesConv)).toEqual([]);
    expect(sales.events(supportConv)).toEqual([]);
    expect(sales.events(salesConv).map((f) => f.event)).toEqual(['conversation.updated', 'conversation.updated', 'message.created']);
    expect(sales.events(salesConv)[0].data).toMatchObject({ action: 'conversation.opened', state: { conversationId: salesConv, ownerId: null } });
    const seqs = sales.frames.filter((f) => f.type === 'event').map((f) => f.seq!);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('an assignment reaches both sides: a handoff from Sales to Support is seen by both teams', async () => {
    const teams = JSON.parse(tokens.teams);
    const sales = await open(tokens.sales);
    const support = await open(tokens.support);
    const conv = await conversation(SALES_NUMBER);
    const http = request(gateway.getHttpServer());
    const claimed = await http.post(`/api/v1/conversations/${conv}/claim`).set(as('sales')).send({ version: 2 }).expect(200);
    await request(gateway.getHttpServer())
      .post(`/api/v1/conversations/${conv}/handoff`)
      .set(as('sales'))
      .send({ toTeamId: teams.Support, note: 'over to you', version: claimed.body.version })
      .expect(200);
    const toSupport = await support.until((f) => f.event === 'conversation.assigned' && f.conversationId === conv, 'Support is told');
    expect(toSupport.data).toMatchObject({ reason: 'handoff', teamId: teams.Support, previousTeamId: teams.Sales, note: 'over to you' });
    await sales.until((f) => f.event === 'conversation.assigned' && f.data?.reason === 'handoff' && f.conversationId === conv, 'Sales is told');
  });

  it('a client reconnecting with ?since= gets what it missed, in order, then live events', async () => {
    const first = await open(tokens.sales);
    const ready = await first.until((f) => f.type === 'ready', 'ready');
    first.ws.close();
    const missed = await conversation(SALES_NUMBER); // happens while disconnected
    const again = await open(tokens.sales, ready.cursor);
    await again.until((f) => f.type === 'replayed', 'replay done');
    const replayed = again.events(missed).map((f) => f.event);
    expect(replayed).toEqual(['conversation.updated', 'conversation.updated']);
    const live = await conversation(SALES_NUMBER);
    await again.until((f) => f.conversationId === live, 'live after replay');
    const seqs = again.frames.filter((f) => f.type === 'event').map((f) => f.seq!);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('logout closes the socket at the next check (4401)', async () => {
    const login = await request(gateway.getHttpServer()).post('/api/v1/auth/login').send(ADMIN).expect(200);
    const s = await open(login.body.accessToken);
    await s.until((f) => f.type === 'ready', 'ready');
    await request(gateway.getHttpServer()).post('/api/v1/auth/logout').set('Authorization', `Bearer ${login.body.accessToken}`).expect(204);
    await gateway.get(RealtimeHub).recheckNow();
    await waitFor(() => s.closed, { what: 'socket closed' });
    expect(s.closed!.code).toBe(4401);
  });

  it('presence: "viewing"/"typing" reach others who may see the conversation, "left" follows a disconnect', async () => {
    const conv = await conversation(SALES_NUMBER);
    const supportConv = await conversation(SUPPORT_NUMBER);
    const sales = await open(tokens.sales);
    const admin = await open(tokens.admin);
    const support = await open(tokens.support);
    for (const s of [sales, admin, support]) await s.until((f) => f.type === 'ready', 'ready');
    sales.ws.send(JSON.stringify({ type: 'presence', conversationId: conv, state: 'typing' }));
    const seen = await admin.until((f) => f.type === 'presence' && f.conversationId === conv, 'admin sees presence');
    expect(seen).toMatchObject({ user: { name: 'sales' }, state: 'typing' });
    sales.ws.send(JSON.stringify({ type: 'presence', conversationId: supportConv, state: 'viewing' }));
    const refused = await sales.until((f) => f.type === 'error', 'error for a conversation it may not see');
    expect(refused).toMatchObject({ message: `conversation ${supportConv} not found` });
    sales.ws.close();
    const left = await admin.until((f) => f.type === 'presence' && (f as any).state === 'left', 'left after disconnect');
    expect(left.conversationId).toBe(conv);
    // support may not see the Sales conversation: its socket got no presence at all; the sender no echo
    support.ws.send(JSON.stringify({ type: 'presence', conversationId: supportConv, state: 'viewing' }));
    await admin.until((f) => f.type === 'presence' && f.conversationId === supportConv, 'admin sees support presence');
    expect(support.frames.filter((f) => f.type === 'presence')).toEqual([]);
    expect(sales.frames.filter((f) => f.type === 'presence')).toEqual([]);
  });
});
