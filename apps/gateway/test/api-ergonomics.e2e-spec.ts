import type { INestApplication } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import * as ts from 'typescript';
import { parseConfig } from '@app/config';
import { WebhookReceivedV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { useOpenApi } from '../src/inbox/openapi';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { textWebhook } from '../../../test/support/webhooks';

/** API ergonomics: ETag / If-Match on conversations, per-key rate limits, a TypeScript client generated from the OpenAPI document. */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const NUMBER = '1555000044';
const ROOT = resolve(__dirname, '../../..');
const RATE = 60;

/** What an integrator writes against the generated `paths` types (type-checked by tsc below, then run). */
const CLIENT_SOURCE = `
import createClient from 'openapi-fetch';
import type { paths } from './api';

export async function run(baseUrl: string, apiKey: string) {
  const api = createClient<paths>({ baseUrl, headers: { 'X-Api-Key': apiKey } });
  const list = await api.GET('/api/v1/conversations', { params: { query: { view: 'unassigned', limit: 10 } } });
  if (!list.data) throw new Error('list failed: ' + JSON.stringify(list.error));
  const id: string = list.data.items[0].id;
  const one = await api.GET('/api/v1/conversations/{id}', { params: { path: { id } } });
  if (!one.data) throw new Error('get failed');
  const etag = one.response.headers.get('etag') ?? '';
  const claimed = await api.POST('/api/v1/conversations/{id}/priority', { params: { path: { id }, header: { 'If-Match': etag } }, body: { priority: 'high' } });
  const stale = await api.POST('/api/v1/conversations/{id}/priority', { params: { path: { id }, header: { 'If-Match': etag } }, body: { priority: 'urgent' } });
  return {
    count: list.data.items.length,
    version: one.data.version,
    etag,
    claimedVersion: claimed.data?.version ?? null,
    claimError: claimed.error ? JSON.stringify(claimed.error) : null,
    claimedEtag: claimed.response.headers.get('etag'),
    staleStatus: stale.response.status,
    staleMessage: stale.error ? String((stale.error as { message?: string }).message) : null,
  };
}
`;

describe('API ergonomics (gateway + routing + ingest, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let routing: INestApplication;
  let ingest: INestApplication;
  let peer: NatsBus;
  let http: ReturnType<typeof request.agent>;
  let admin: Record<string, string>;
  let base: string;
  const key = async (name: string) => (await http.post('/api/v1/api-keys').set(admin).send({ name, scopes: ['conversations:read', 'conversations:write'] }).expect(201)).body.key as string;

  async function customerWrites(): Promise<{ id: string; version: number }> {
    const waId = `49${Math.floor(1e9 + Math.random() * 9e9)}`;
    await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body: textWebhook({ phoneNumberId: NUMBER, from: waId, text: 'hi' }) });
    return waitFor(
      async () => (await http.get('/api/v1/conversations?view=unassigned&limit=200').set(admin)).body.items?.find((c: { contact: { waId: string } }) => c.contact.waId === waId) ?? null,
      // the admin's requests count against its rate limit too: poll gently
      { what: 'conversation through ingest and routing', intervalMs: 250 },
    );
  }

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, MEDIA_DIR: `/tmp/ergonomics-e2e-${randomUUID()}` });
    ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, env.env)));
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, { ...env.env, API_RATE_LIMIT_PER_MINUTE: String(RATE) })), {
      listen: true,
      setup: useOpenApi,
    });
    base = `http://127.0.0.1:${(gateway.getHttpServer().address() as AddressInfo).port}`;
    http = request.agent(gateway.getHttpServer());
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    admin = { Authorization: `Bearer ${(await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken}` };
  }, 120_000);
  afterAll(async () => {
    await peer?.close();
    await gateway?.close();
    await routing?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  it('ETag is the conversation version; If-Match replaces the body version; a stale one is 409 either way', async () => {
    const c = await customerWrites();
    const got = await http.get(`/api/v1/conversations/${c.id}`).set(admin).expect(200);
    expect(got.headers.etag).toBe(`"${c.version}"`);
    const claimed = await http.post(`/api/v1/conversations/${c.id}/claim`).set(admin).set('If-Match', `"${c.version}"`).send({}).expect(200);
    expect(claimed.body.version).toBe(c.version + 1);
    expect(claimed.headers.etag).toBe(`"${c.version + 1}"`);
    const stale = await http.post(`/api/v1/conversations/${c.id}/priority`).set(admin).set('If-Match', `"${c.version}"`).send({ priority: 'high' }).expect(409);
    expect(stale.body.details.current.version).toBe(c.version + 1);
    await http.post(`/api/v1/conversations/${c.id}/priority`).set(admin).send({ priority: 'high', version: c.version }).expect(409);
    const both = await http.post(`/api/v1/conversations/${c.id}/priority`).set(admin).set('If-Match', `"${c.version + 1}"`).send({ priority: 'high', version: c.version }).expect(400);
    expect(both.body.message).toMatch(/If-Match .* and body version .* disagree/);
    expect((await http.post(`/api/v1/conversations/${c.id}/priority`).set(admin).set('If-Match', 'W/"2"').send({ priority: 'high' }).expect(400)).body.message).toMatch(/If-Match must be one ETag/);
    expect((await http.post(`/api/v1/conversations/${c.id}/priority`).set(admin).send({ priority: 'high' }).expect(400)).body.message).toMatch(/version \(or an If-Match header\) is required/);
    await http.post(`/api/v1/conversations/${c.id}/priority`).set(admin).set('If-Match', `"${c.version + 1}"`).send({ priority: 'high' }).expect(200);
  });

  it('limits requests per API key and per user (429 with Retry-After), counting every route, not other keys or the webhook', async () => {
    const k1 = { 'X-Api-Key': await key('busy') };
    const k2 = { 'X-Api-Key': await key('quiet') };
    for (let i = 0; i < RATE; i++) await http.get(i % 2 ? '/api/v1/conversations?limit=1' : '/api/v1/labels').set(k1).expect(200);
    const limited = await http.get('/api/v1/labels').set(k1).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(limited.body.message).toMatch(new RegExp(`${RATE} requests per minute per API key or user`));
    await http.get('/api/v1/labels').set(k2).expect(200);
    await http.get('/health/live').expect(200);
    // a user is one bucket however many sessions: a new login does not get a fresh allowance
    await http.post('/api/v1/users').set(admin).send({ email: 'v@example.test', name: 'V', password: 'viewer-password-123', role: 'viewer', teamIds: [] }).expect(201);
    const login = async () => ({ Authorization: `Bearer ${(await http.post('/api/v1/auth/login').send({ email: 'v@example.test', password: 'viewer-password-123' }).expect(200)).body.accessToken}` });
    const s1 = await login();
    for (let i = 0; i < RATE; i++) await http.get('/api/v1/labels').set(s1).expect(200);
    await http.get('/api/v1/labels').set(await login()).expect(429);
  });

  it('generates a TypeScript client from the OpenAPI document that type-checks and calls three routes', async () => {
    await customerWrites();
    const dir = mkdtempSync(join(tmpdir(), 'sb-openapi-'));
    try {
      const doc = (await http.get('/api/docs-json').expect(200)).body;
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      execFileSync(process.execPath, [join(ROOT, 'node_modules/openapi-typescript/bin/cli.js'), join(dir, 'openapi.json'), '-o', join(dir, 'api.d.ts')], { stdio: 'pipe' });
      writeFileSync(join(dir, 'client.ts'), CLIENT_SOURCE);
      // the generated types must accept what an integrator writes (and reject what is wrong: see below)
      const check = (file: string) => {
        const program = ts.createProgram([join(dir, file)], { strict: true, noEmit: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022, esModuleInterop: true, skipLibCheck: true, types: [] });
        return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      };
      expect(check('client.ts')).toEqual([]);
      writeFileSync(join(dir, 'wrong.ts'), CLIENT_SOURCE.replace("body: { priority: 'urgent' }", "body: { priority: 'very' }"));
      expect(check('wrong.ts').length).toBeGreaterThan(0);

      writeFileSync(join(dir, 'client.js'), ts.transpileModule(CLIENT_SOURCE, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText);
      const { run } = require(join(dir, 'client.js')) as { run: (b: string, k: string) => Promise<Record<string, unknown>> };
      const r = await run(base, await key('generated-client'));
      expect(r.count).toBeGreaterThan(0);
      expect(r.etag).toBe(`"${r.version}"`);
      expect(r.claimError).toBeNull();
      expect(r.claimedVersion).toBe((r.version as number) + 1);
      expect(r.claimedEtag).toBe(`"${(r.version as number) + 1}"`);
      expect(r.staleStatus).toBe(409);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
