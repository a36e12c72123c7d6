import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { WebhookReceivedV1 } from '@app/contracts';
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
 * GET /api/v1/conversations?q= with gateway, ingest and routing on real PostgreSQL and NATS: ingest matches the
 * contact and message text, routing keeps only what the caller may see.
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const SALES_NUMBER = '1555000011';
const SUPPORT_NUMBER = '1555000022';

describe('conversation search (gateway + routing + ingest, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let ingest: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  const tokens: Record<string, string> = {};
  const teams: Record<string, string> = {};
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  async function createUser(key: string, role: string, teamNames: string[]) {
    await http
      .post('/api/v1/users')
      .set(as('admin'))
      .send({ email: `${key}@example.test`, name: `User ${key}`, password: PASSWORD, role, teamIds: teamNames.map((t) => teams[t]) })
      .expect(201);
    tokens[key] = (await http.post('/api/v1/auth/login').send({ email: `${key}@example.test`, password: PASSWORD }).expect(200)).body.accessToken;
  }

  /** A customer writes in through a real webhook; resolves to the conversation id once routing has it. */
  async function customerWrites(number: string, name: string, waId: string, text: string): Promise<string> {
    const body = textWebhook({ phoneNumberId: number, from: waId, name, text });
    await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body });
    return waitFor(
      async () => {
        const res = await http.get('/api/v1/conversations?limit=200').set(as('admin'));
        return res.body.items?.find((c: { contact: { waId: string } }) => c.contact.waId === waId)?.id ?? null;
      },
      { what: 'conversation through ingest and routing' },
    );
  }

  const search = async (who: string, q: string, extra = '') =>
    (await http.get(`/api/v1/conversations?q=${encodeURIComponent(q)}${extra}`).set(as(who)).expect(200)).body.items.map(
      (c: { id: string }) => c.id,
    ) as string[];

  const conv: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/search-e2e-${randomUUID()}` });
    ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, env.env)));
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });

    tokens.admin = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    for (const name of ['Sales', 'Support']) teams[name] = (await http.post('/api/v1/teams').set(as('admin')).send({ name }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${SALES_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Sales }).expect(200);
    await http.put(`/api/v1/numbers/${SUPPORT_NUMBER}/team`).set(as('admin')).send({ teamId: teams.Support }).expect(200);
    await createUser('sales', 'agent', ['Sales']);
    await createUser('support', 'agent', ['Support']);

    conv.name = await customerWrites(SALES_NUMBER, 'Zebulon Quixote', '4915100000001', 'hello there');
    conv.phone = await customerWrites(SALES_NUMBER, 'Anna Berg', '4917012345678', 'good morning');
    conv.text = await customerWrites(SALES_NUMBER, 'Carl Dorn', '4915100000003', 'my parcel ARRIVED Broken, please help');
    conv.underscore = await customerWrites(SALES_NUMBER, 'Dana Eck', '4915100000004', 'my code is a_b7');
    conv.lookalike = await customerWrites(SALES_NUMBER, 'Emil Fox', '4915100000005', 'my code is axb7');
    conv.percent = await customerWrites(SALES_NUMBER, 'Fritz Gans', '4915100000006', 'I am 100% sure');
    conv.support = await customerWrites(SUPPORT_NUMBER, 'Zebulon Support', '4915100000007', 'parcel arrived broken too');
  }, 120_000);
  afterAll(async () => {
    await peer?.close();
    await gateway?.close();
    await routing?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  it('finds a conversation by contact profile name, case-insensitively', async () => {
    expect(await search('sales', 'quixote')).toEqual([conv.name]);
    expect(await search('sales', 'ZEBULON Q')).toEqual([conv.name]);
  });

  it('finds a conversation by phone digits, also typed with + and spaces', async () => {
    expect(await search('sales', '17012345')).toEqual([conv.phone]);
    expect(await search('sales', '+49 170 1234')).toEqual([conv.phone]);
  });

  it('finds a conversation by the text of its messages, case-insensitively, newest activity first', async () => {
    expect(await search('sales', 'arrived broken')).toEqual([conv.text]);
    expect(await search('admin', 'ARRIVED broken')).toEqual([conv.support, conv.text]);
  });

  it('never shows an agent of Sales a Support conversation, and the other way round', async () => {
    expect(await search('sales', 'zebulon')).toEqual([conv.name]);
    expect(await search('support', 'zebulon')).toEqual([conv.support]);
    expect(await search('support', 'quixote')).toEqual([]);
    expect((await search('admin', 'zebulon')).sort()).toEqual([conv.name, conv.support].sort());
  });

  it('takes % and _ in q literally', async () => {
    expect(await search('sales', 'a_b7')).toEqual([conv.underscore]);
    expect(await search('sales', '100%')).toEqual([conv.percent]);
    expect(await search('sales', '%%')).toEqual([]);
    expect(await search('sales', '__')).toEqual([]);
  });

  it('combines with the other filters', async () => {
    expect(await search('sales', 'zebulon', '&view=mine')).toEqual([]);
    expect(await search('admin', 'zebulon', `&teamId=${teams.Support}`)).toEqual([conv.support]);
    expect(await search('admin', 'zebulon', '&status=resolved')).toEqual([]);
  });

  it('refuses a q shorter than 2 or longer than 100 characters with 400', async () => {
    const short = await http.get('/api/v1/conversations?q=x').set(as('sales')).expect(400);
    expect(JSON.stringify(short.body.message)).toContain('q');
    await http.get(`/api/v1/conversations?q=${'y'.repeat(101)}`).set(as('sales')).expect(400);
  });
});
