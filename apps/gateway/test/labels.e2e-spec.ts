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

/** The label catalogue (`/api/v1/labels`) and its use by `POST /conversations/:id/labels`, real PostgreSQL and NATS. */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const PASSWORD = 'agent-password-123';
const NUMBER = '1555000033';

describe('label catalogue (gateway + routing + ingest, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let ingest: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });
  let teamId: string;

  const auditOf = async (entityId: string) =>
    (await http.get('/api/v1/audit?limit=1000').set(as('admin')).expect(200)).body.items.filter(
      (e: { action: string; before: any; after: any }) => e.action.startsWith('label.') && (e.before?.labelId === entityId || e.after?.labelId === entityId),
    );

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/labels-e2e-${randomUUID()}` });
    ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, env.env)));
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    tokens.admin = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    teamId = (await http.post('/api/v1/teams').set(as('admin')).send({ name: 'Sales' }).expect(201)).body.id;
    await http.put(`/api/v1/numbers/${NUMBER}/team`).set(as('admin')).send({ teamId }).expect(200);
    await http
      .post('/api/v1/users')
      .set(as('admin'))
      .send({ email: 'agent@example.test', name: 'Agent', password: PASSWORD, role: 'agent', teamIds: [teamId] })
      .expect(201);
    tokens.agent = (await http.post('/api/v1/auth/login').send({ email: 'agent@example.test', password: PASSWORD }).expect(200)).body.accessToken;
  }, 120_000);
  afterAll(async () => {
    await peer?.close();
    await gateway?.close();
    await routing?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  it('creates, lists, reads, updates and deletes labels, each change audited once with before/after', async () => {
    const created = await http.post('/api/v1/labels').set(as('admin')).send({ name: ' Billing ', color: '#1E90FF' }).expect(201);
    expect(created.body).toMatchObject({ name: 'Billing', color: '#1e90ff' });
    const id = created.body.id;
    expect((await http.get('/api/v1/labels').set(as('agent')).expect(200)).body.items.map((l: { name: string }) => l.name)).toContain('Billing');
    expect((await http.get(`/api/v1/labels/${id}`).set(as('agent')).expect(200)).body).toMatchObject({ id, name: 'Billing' });

    const updated = await http.patch(`/api/v1/labels/${id}`).set(as('admin')).send({ name: 'Invoices', color: '#00aa00' }).expect(200);
    expect(updated.body).toMatchObject({ id, name: 'Invoices', color: '#00aa00' });

    await http.delete(`/api/v1/labels/${id}`).set(as('admin')).expect(200);
    await http.get(`/api/v1/labels/${id}`).set(as('admin')).expect(404);
    await http.delete(`/api/v1/labels/${id}`).set(as('admin')).expect(404);
    await http.patch(`/api/v1/labels/${id}`).set(as('admin')).send({ color: '#000000' }).expect(404);

    const entries = await waitFor(async () => {
      const e = await auditOf(id);
      return e.length === 3 ? e : null;
    }, { what: 'three label audit entries' });
    expect(entries.map((e: { action: string }) => e.action).sort()).toEqual(['label.created', 'label.deleted', 'label.updated']);
    const upd = entries.find((e: { action: string }) => e.action === 'label.updated');
    expect(upd.before).toMatchObject({ name: 'Billing', color: '#1e90ff' });
    expect(upd.after).toMatchObject({ name: 'Invoices', color: '#00aa00' });
  });

  it('keeps names unique regardless of case, on create and on rename', async () => {
    await http.post('/api/v1/labels').set(as('admin')).send({ name: 'Urgent', color: '#ff0000' }).expect(201);
    await http.post('/api/v1/labels').set(as('admin')).send({ name: 'uRGENT', color: '#ff0000' }).expect(409);
    const other = await http.post('/api/v1/labels').set(as('admin')).send({ name: 'Later', color: '#cccccc' }).expect(201);
    await http.patch(`/api/v1/labels/${other.body.id}`).set(as('admin')).send({ name: 'URGENT' }).expect(409);
  });

  it('refuses bad names and colours with 400 naming the field', async () => {
    const long = await http.post('/api/v1/labels').set(as('admin')).send({ name: 'x'.repeat(41), color: '#ff0000' }).expect(400);
    expect(JSON.stringify(long.body.message)).toContain('name');
    const color = await http.post('/api/v1/labels').set(as('admin')).send({ name: 'Fine', color: 'red' }).expect(400);
    expect(JSON.stringify(color.body.message)).toContain('color');
    await http.post('/api/v1/labels').set(as('admin')).send({ name: '   ', color: '#ff0000' }).expect(400);
  });

  it('lets only admins change the catalogue (403 for agents)', async () => {
    const l = await http.post('/api/v1/labels').set(as('admin')).send({ name: 'Admins only', color: '#123456' }).expect(201);
    await http.post('/api/v1/labels').set(as('agent')).send({ name: 'Mine', color: '#123456' }).expect(403);
    await http.patch(`/api/v1/labels/${l.body.id}`).set(as('agent')).send({ color: '#654321' }).expect(403);
    await http.delete(`/api/v1/labels/${l.body.id}`).set(as('agent')).expect(403);
    expect((await http.get(`/api/v1/labels/${l.body.id}`).set(as('agent')).expect(200)).body.color).toBe('#123456');
  });

  it('gives conversations only catalogue labels: unknown ones are refused with 400 naming them', async () => {
    const waId = `49${Math.floor(1e9 + Math.random() * 9e9)}`;
    const body = textWebhook({ phoneNumberId: NUMBER, from: waId, text: 'hi' });
    await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body });
    const c = await waitFor(
      async () => (await http.get('/api/v1/conversations?limit=200').set(as('agent'))).body.items?.find((x: any) => x.contact.waId === waId) ?? null,
      { what: 'conversation through ingest and routing' },
    );
    await http.post('/api/v1/labels').set(as('admin')).send({ name: 'VIP', color: '#ffd700' }).expect(201);
    // agents change the conversations they own
    const claimed = (await http.post(`/api/v1/conversations/${c.id}/claim`).set(as('agent')).send({ version: c.version }).expect(200)).body;

    const refused = await http
      .post(`/api/v1/conversations/${c.id}/labels`)
      .set(as('agent'))
      .send({ labels: ['vip', 'made-up', 'also%fake'], version: claimed.version })
      .expect(400);
    expect(refused.body.message).toContain('"made-up"');
    expect(refused.body.message).toContain('"also%fake"');
    expect(refused.body.message).not.toContain('"vip"');
    expect((await http.get(`/api/v1/conversations/${c.id}`).set(as('agent')).expect(200)).body).toMatchObject({ labels: [], version: claimed.version });

    const ok = await http.post(`/api/v1/conversations/${c.id}/labels`).set(as('agent')).send({ labels: ['vip'], version: claimed.version }).expect(200);
    expect(ok.body.labels).toEqual(['VIP']); // stored as the catalogue spells it

    // a label deleted from the catalogue may stay on a conversation that has it, but cannot be added anew
    const vip = (await http.get('/api/v1/labels').set(as('admin')).expect(200)).body.items.find((l: { name: string }) => l.name === 'VIP');
    await http.delete(`/api/v1/labels/${vip.id}`).set(as('admin')).expect(200);
    await http.post('/api/v1/labels').set(as('admin')).send({ name: 'Hot', color: '#ff4500' }).expect(201);
    const kept = await http.post(`/api/v1/conversations/${c.id}/labels`).set(as('agent')).send({ labels: ['VIP', 'hot'], version: ok.body.version }).expect(200);
    expect([...kept.body.labels].sort()).toEqual(['Hot', 'VIP']);
  });
});
