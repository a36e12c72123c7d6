import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { GetNumberCredentialsV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { SecretBox } from '../src/secrets/secret-box';
import { AccountsRepository } from '../src/whatsapp-accounts/accounts.repository';
import { useWebhookRawBody } from '../src/webhooks/whatsapp/raw-body';
import { sign } from '../src/webhooks/whatsapp/signature';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { SandboxConfigSchema } from '../../sandbox/src/config';
import { SandboxModule } from '../../sandbox/src/sandbox.module';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { GraphClient } from '../../notifications/src/graph/graph.client';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { CapturedLogs, startCapturedApp } from '../../../test/support/captured-app';
import { textWebhook } from '../../../test/support/webhooks';

/** Business numbers, WABAs and Meta apps as managed resources (gateway + routing + the sandbox as Graph API). */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const SANDBOX_TOKEN = 'EAAG-sandbox-system-user-token-7Q2x';
const APP_SECRET = 'registry-app-secret-9f3kZ';
const VERIFY_TOKEN = 'registry-verify-token-Lm4p';
const SECRETS = [SANDBOX_TOKEN, APP_SECRET, VERIFY_TOKEN];
const NUMBER = '106540352299001';
const WABA = '100000000000077';

describe('WhatsApp registry: Meta apps, WABAs, numbers (real PostgreSQL and NATS, sandbox Graph API)', () => {
  let env: TestEnv;
  let sandbox: INestApplication;
  let routing: INestApplication;
  let gateway: INestApplication;
  let notifications: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  let admin: Record<string, string>;
  const logs = new CapturedLogs();
  /** Every response body the API gave in this file, scanned for secrets at the end. */
  const bodies: string[] = [];
  const call = async (t: request.Test): Promise<request.Response> => {
    const res: request.Response = await t;
    bodies.push(res.text ?? '');
    return res;
  };

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    sandbox = await startApp(
      SandboxModule.register(
        parseConfig(SandboxConfigSchema, {
          NODE_ENV: 'test',
          SANDBOX_ACCESS_TOKEN: SANDBOX_TOKEN,
          SANDBOX_WEBHOOKS: 'false',
          SANDBOX_PHONE_NUMBER_IDS: NUMBER,
          SANDBOX_VERIFIED_NAME: 'Acme Shoes',
        }),
      ),
      { listen: true },
    );
    const graph = `http://127.0.0.1:${(sandbox.getHttpServer().address() as AddressInfo).port}`;
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startCapturedApp(GatewayModule.register(parseConfig(GatewayConfigSchema, { ...env.env, GRAPH_API_BASE_URL: graph, GRAPH_API_TIMEOUT_MS: '2000' })), logs, {
      setup: (app) => useWebhookRawBody(app, 1 << 20),
    });
    notifications = await startApp(
      NotificationsModule.register(
        parseConfig(NotificationsConfigSchema, {
          ...env.env,
          GRAPH_API_BASE_URL: graph,
          WHATSAPP_ACCESS_TOKEN: 'configured-default-token',
          OUTBOUND_SENDER: 'false',
          TEMPLATE_SYNC_INTERVAL_MS: '3600000',
        }),
      ),
    );
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    admin = { Authorization: `Bearer ${(await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken}` };
  }, 120_000);
  afterAll(async () => {
    await peer?.close();
    await notifications?.close();
    await gateway?.close();
    await routing?.close();
    await sandbox?.close();
    await env?.cleanup();
  });

  let appId: string;

  it('registers an app (secrets shown only as set + last 4), a WABA and a number with its default team; tests the connection', async () => {
    const created = await call(
      http.post('/api/v1/meta-apps').set(admin).send({ name: 'Acme app', metaAppId: '1234567890', appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, accessToken: SANDBOX_TOKEN }),
    );
    expect(created.status).toBe(201);
    appId = created.body.id;
    expect(created.body).toMatchObject({
      name: 'Acme app',
      status: 'active',
      appSecret: { set: true, last4: APP_SECRET.slice(-4) },
      verifyToken: { set: true, last4: VERIFY_TOKEN.slice(-4) },
      accessToken: { set: true, last4: SANDBOX_TOKEN.slice(-4) },
    });
    expect((await call(http.get(`/api/v1/meta-apps/${appId}`).set(admin))).body.accessToken).toEqual({ set: true, last4: SANDBOX_TOKEN.slice(-4) });
    expect((await call(http.get('/api/v1/meta-apps').set(admin))).body.items).toHaveLength(1);

    expect((await call(http.post('/api/v1/whatsapp-accounts').set(admin).send({ wabaId: WABA, name: 'Acme', appId }))).status).toBe(201);
    const teamId = (await call(http.post('/api/v1/teams').set(admin).send({ name: 'Shoes' }))).body.id;
    const number = await call(http.post('/api/v1/numbers').set(admin).send({ phoneNumberId: NUMBER, wabaId: WABA, displayNumber: '+1 555 000 9001', defaultTeamId: teamId }));
    expect(number.status).toBe(201);
    expect(number.body).toMatchObject({ phoneNumberId: NUMBER, wabaId: WABA, defaultTeamId: teamId, graphApiVersion: 'v23.0', status: 'active', lastTest: null });
    // services that call the Graph API get the number's credentials over the bus
    const work = await peer.request(GetNumberCredentialsV1, { phoneNumberId: NUMBER });
    expect(work).toMatchObject({ phoneNumberId: NUMBER, wabaId: WABA, graphApiVersion: 'v23.0', accessToken: SANDBOX_TOKEN, active: true });

    const test = await call(http.post(`/api/v1/numbers/${NUMBER}/test`).set(admin));
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true, phoneNumberId: NUMBER, verifiedName: 'Acme Shoes', qualityRating: 'GREEN', messagingLimit: 'TIER_250' });
    expect((await call(http.get(`/api/v1/numbers/${NUMBER}`).set(admin))).body.lastTest).toMatchObject({ verifiedName: 'Acme Shoes', qualityRating: 'GREEN' });
    expect((await call(http.get(`/api/v1/numbers?wabaId=${WABA}`).set(admin))).body.items.map((n: { phoneNumberId: string }) => n.phoneNumberId)).toEqual([NUMBER]);
  });

  it('accepts webhooks signed with a registered app secret and the handshake with its verify token', async () => {
    const body = textWebhook({ phoneNumberId: NUMBER, from: '15550001111', text: 'hi' });
    await http.post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', sign(body, APP_SECRET)).send(body).expect(200);
    await http.post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', sign(body, 'not-the-secret')).send(body).expect(401);
    const hs = await http.get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '42' }).expect(200);
    expect(hs.text).toBe('42');
  });

  it('refuses bad input with 400 naming the field, duplicates with 409, unknown ids with 404', async () => {
    const bad = await call(http.post('/api/v1/numbers').set(admin).send({ phoneNumberId: '+15550009001', wabaId: WABA, displayNumber: '+1 555' }));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/phoneNumberId must be the numeric phone number id/);
    const noWaba = await call(http.post('/api/v1/numbers').set(admin).send({ phoneNumberId: '123', wabaId: '999', displayNumber: '+1 555 000' }));
    expect(noWaba.status).toBe(400);
    expect(noWaba.body.message).toMatch(/wabaId: WhatsApp Business Account 999 is not registered/);
    expect((await call(http.post('/api/v1/numbers').set(admin).send({ phoneNumberId: NUMBER, wabaId: WABA, displayNumber: '+1 555 000' }))).status).toBe(409);
    expect((await call(http.get('/api/v1/numbers/abc').set(admin))).status).toBe(400);
    expect((await call(http.get('/api/v1/numbers/42').set(admin))).status).toBe(404);
    expect((await call(http.post('/api/v1/meta-apps').set(admin).send({ name: 'x', appSecret: 'short' }))).status).toBe(400);
  });

  it("reports Meta's refusals in words: a number Meta does not know, a wrong token (422)", async () => {
    await call(http.post('/api/v1/numbers').set(admin).send({ phoneNumberId: '106540352299999', wabaId: WABA, displayNumber: '+1 555 000 9999' })).then((r) => expect(r.status).toBe(201));
    const unknown = await call(http.post('/api/v1/numbers/106540352299999/test').set(admin));
    expect(unknown.status).toBe(422);
    expect(unknown.body.message).toMatch(/Meta does not know this phone number id.*Meta error 100/);
    expect(unknown.body.details).toMatchObject({ code: 100, subcode: 33 });

    await call(http.patch(`/api/v1/meta-apps/${appId}`).set(admin).send({ accessToken: 'EAAG-wrong-token-0000' })).then((r) => expect(r.status).toBe(200));
    const wrong = await call(http.post(`/api/v1/numbers/${NUMBER}/test`).set(admin));
    expect(wrong.status).toBe(422);
    expect(wrong.body.message).toMatch(/access token/i);
    expect(wrong.body.details.code).toBe(190);
    await call(http.patch(`/api/v1/meta-apps/${appId}`).set(admin).send({ accessToken: SANDBOX_TOKEN })).then((r) => expect(r.body.accessToken.set).toBe(true));
  });

  it("notifications sends from a registered number with its app's token, from others with the configured default", async () => {
    const graph = notifications.get(GraphClient);
    const text = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '15550001111', type: 'text', text: { body: 'hello' } };
    expect(await graph.postMessage(NUMBER, text)).toMatchObject({ kind: 'ok', status: 200 });
    // not in the registry: the configured default token, which this sandbox refuses (Meta's code 190)
    expect(await graph.postMessage('106540352288888', text)).toMatchObject({ kind: 'error', code: 190 });
  });

  it('a disabled app no longer verifies webhooks and its numbers are reported inactive', async () => {
    await call(http.patch(`/api/v1/meta-apps/${appId}`).set(admin).send({ status: 'disabled' })).then((r) => expect(r.body.status).toBe('disabled'));
    const body = textWebhook({ phoneNumberId: NUMBER, from: '15550001111', text: 'again' });
    await http.post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', sign(body, APP_SECRET)).send(body).expect(401);
    expect((await peer.request(GetNumberCredentialsV1, { phoneNumberId: NUMBER })).active).toBe(false);
    await call(http.patch(`/api/v1/meta-apps/${appId}`).set(admin).send({ status: 'active' }));
  });

  it('keeps every change in the audit trail without a secret', async () => {
    const entries = await waitFor(async () => {
      const r = await call(http.get('/api/v1/audit?limit=1000').set(admin));
      const mine = r.body.items.filter((e: { action: string }) => /^(meta-app|waba|phone-number)\./.test(e.action));
      return mine.length >= 8 ? mine : null;
    }, { what: 'registry audit entries' });
    expect(entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['meta-app.created', 'meta-app.updated', 'waba.created', 'phone-number.created']));
  });

  it('re-encrypting never writes an old secret over one an admin changed meanwhile', async () => {
    const repo = gateway.get(AccountsRepository);
    const ds = gateway.get(DataSource);
    const box = gateway.get(SecretBox);
    const [{ access_token_sealed: current }] = await ds.query(`SELECT access_token_sealed FROM gateway.meta_app WHERE id = $1`, [appId]);
    const resealed = box.seal(SANDBOX_TOKEN).sealed;
    // read before the admin's change: the stale value no longer matches, nothing is written
    expect(await repo.replaceSealed(ds.manager, 'meta_app', appId, 'access_token_sealed', resealed, box.seal('the token before').sealed)).toBe(false);
    expect((await ds.query(`SELECT access_token_sealed FROM gateway.meta_app WHERE id = $1`, [appId]))[0].access_token_sealed).toBe(current);
    expect(await repo.replaceSealed(ds.manager, 'meta_app', appId, 'access_token_sealed', resealed, current)).toBe(true);
    expect(await call(http.post('/api/v1/meta-apps/re-encrypt').set(admin))).toMatchObject({ status: 200, body: { reencrypted: 0 } });
    expect((await peer.request(GetNumberCredentialsV1, { phoneNumberId: NUMBER })).accessToken).toBe(SANDBOX_TOKEN);
  });

  it('an unreachable Graph API is 424 with the reason', async () => {
    await sandbox.close();
    const r = await call(http.post(`/api/v1/numbers/${NUMBER}/test`).set(admin));
    expect(r.status).toBe(424);
    expect(r.body.message).toMatch(/could not be reached \(ECONNREFUSED\)/);
  });

  it('never shows a secret in any API response or any log line', async () => {
    expect(bodies.length).toBeGreaterThan(20);
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const secret of SECRETS) {
      for (const b of bodies) expect(b).not.toContain(secret);
      for (const l of logs.lines) expect(l).not.toContain(secret);
    }
  });
});
