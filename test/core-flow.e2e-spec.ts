import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, freePort, startApp, waitFor } from '@app/testing';
import { GatewayConfigSchema } from '../apps/gateway/src/config';
import { GatewayModule } from '../apps/gateway/src/gateway.module';
import { useWebhookRawBody } from '../apps/gateway/src/webhooks/whatsapp/raw-body';
import { IngestConfigSchema } from '../apps/ingest/src/config';
import { IngestModule } from '../apps/ingest/src/ingest.module';
import { NotificationsConfigSchema } from '../apps/notifications/src/config';
import { NotificationsModule } from '../apps/notifications/src/notifications.module';
import { RoutingConfigSchema } from '../apps/routing/src/config';
import { RoutingModule } from '../apps/routing/src/routing.module';
import { SandboxConfigSchema } from '../apps/sandbox/src/config';
import { SandboxModule } from '../apps/sandbox/src/sandbox.module';
import { spawnService } from './support/service-process';

/**
 * The core path, the same scenario in both deployments: a customer writes through the WhatsApp sandbox (a signed
 * webhook) → a conversation in the inbox → an agent claims it → replies once (a retried request with the same
 * Idempotency-Key sends nothing more) → the sandbox's status webhooks mark the reply delivered.
 *  - split: every service on the real PostgreSQL and NATS (one Nest app each, as the other e2e tests);
 *  - single-machine: exactly what `npm start` runs without DATABASE_URL/NATS_URL (PGlite + the embedded bus).
 */
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const SECRETS = { WHATSAPP_APP_SECRET: 'sandbox-app-secret', WHATSAPP_ACCESS_TOKEN: 'sandbox-token', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };

interface Product {
  base: string;
  sandbox: string;
  stop(): Promise<void>;
}

async function split(): Promise<Product> {
  const [gatewayPort, sandboxPort] = [await freePort(), await freePort()];
  const env = await createTestEnv({ ...SECRETS, MEDIA_DIR: join(tmpdir(), `core-flow-${randomUUID()}`) });
  const apps: INestApplication[] = [];
  const sandboxCfg = { NODE_ENV: 'test', SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${gatewayPort}/webhooks/whatsapp` };
  const sandbox = await startApp(SandboxModule.register(parseConfig(SandboxConfigSchema, sandboxCfg)), { listen: false });
  await sandbox.listen(sandboxPort, '127.0.0.1');
  apps.push(sandbox);
  const withGraph = { ...env.env, GRAPH_API_BASE_URL: `http://127.0.0.1:${sandboxPort}` };
  apps.push(await startApp(IngestModule.register(parseConfig(IngestConfigSchema, withGraph))));
  apps.push(await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env))));
  apps.push(await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, withGraph))));
  const cfg = parseConfig(GatewayConfigSchema, env.env);
  const gateway = await startApp(GatewayModule.register(cfg), { setup: (a) => useWebhookRawBody(a, cfg.WEBHOOK_MAX_BYTES) });
  await gateway.listen(gatewayPort, '127.0.0.1');
  apps.push(gateway);
  return {
    base: `http://127.0.0.1:${gatewayPort}`,
    sandbox: `http://127.0.0.1:${sandboxPort}`,
    async stop() {
      for (const a of apps.reverse()) await a.close();
      await env.cleanup();
    },
  };
}

/** Its own process (PGlite loads its WASM through dynamic import(), which Jest's VM does not allow in-process). */
async function singleMachine(): Promise<Product> {
  const dir = mkdtempSync(join(tmpdir(), 'core-flow-single-'));
  const [port, sandboxPort] = [await freePort(), await freePort()];
  const p = spawnService('standalone', {
    ...SECRETS,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: dir,
    PORT: String(port),
    HOST: '127.0.0.1',
    SANDBOX_PORT: String(sandboxPort),
    MEDIA_DIR: join(dir, 'media'),
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (p.proc.exitCode !== null) throw new Error(`exited: ${p.output()}`);
      return (await request(base).get('/health/ready')).status === 200;
    },
    { timeoutMs: 180_000, intervalMs: 250, what: 'single-machine mode ready' },
  ).catch((err) => {
    p.proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${p.output()}`);
  });
  return {
    base,
    sandbox: `http://127.0.0.1:${sandboxPort}`,
    async stop() {
      p.proc.kill('SIGTERM');
      await p.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.each([
  ['split: PostgreSQL + NATS', split],
  ['single-machine: PGlite + embedded bus', singleMachine],
])('core flow, %s', (_mode, start) => {
  let product: Product;
  let token: string;
  const api = () => request(product.base);
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    product = await start();
    token = (await api().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
  }, 240_000);
  afterAll(async () => {
    await product?.stop();
  });

  it('inbound webhook → conversation → claim → one reply → delivered', async () => {
    const waId = `49170${Math.floor(1e6 + Math.random() * 9e6)}`;
    await request(product.sandbox).post(`/sandbox/customers/${waId}/messages`).send({ text: 'Hi, is my order on its way?' }).expect(200);

    const conv = await waitFor(
      async () => (await api().get('/api/v1/conversations?view=all&limit=200').set(auth())).body.items?.find((c: { contact: { waId: string } }) => c.contact.waId === waId),
      { what: 'the conversation in the inbox', timeoutMs: 45_000 },
    );
    expect(conv).toMatchObject({ status: 'open', owner: null, lastMessageText: 'Hi, is my order on its way?' });

    const claimed = (await api().post(`/api/v1/conversations/${conv.id}/claim`).set(auth()).send({ version: conv.version }).expect(200)).body;
    const key = randomUUID();
    const reply = () => api().post(`/api/v1/conversations/${conv.id}/messages`).set(auth()).set('Idempotency-Key', key).send({ text: 'Yes, it ships today.', version: claimed.version });
    // notifications learns the customer's open 24 h window from ingest's event; until then a reply is refused
    const first = await waitFor(async () => {
      const r = await reply();
      return r.status === 202 ? r : null;
    }, { what: 'the reply accepted', timeoutMs: 45_000 });
    const again = await reply().expect(202);
    expect(again.body).toMatchObject({ sendId: first.body.sendId, duplicate: true });

    const delivered = await waitFor(
      async () => {
        const msgs = (await api().get(`/api/v1/conversations/${conv.id}/messages`).set(auth())).body.items ?? [];
        const out = msgs.find((m: { direction: string }) => m.direction === 'outbound');
        return out && ['delivered', 'read'].includes(out.status) ? out : null;
      },
      { what: 'the reply delivered', timeoutMs: 45_000 },
    );
    expect(delivered).toMatchObject({ text: 'Yes, it ships today.', waMessageId: expect.stringMatching(/^wamid\./) });
    const atSandbox = (await request(product.sandbox).get('/sandbox/sent').query({ to: waId }).expect(200)).body;
    expect(atSandbox.count).toBe(1);
  }, 150_000);
});
