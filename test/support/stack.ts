import { Logger, type INestApplication, type LoggerService } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { CheckSendV1, SendMessageV1, type RequestOf } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../../apps/gateway/src/config';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { useOpenApi } from '../../apps/gateway/src/inbox/openapi';
import { useWebhookRawBody } from '../../apps/gateway/src/webhooks/whatsapp/raw-body';
import { sign } from '../../apps/gateway/src/webhooks/whatsapp/signature';
import { IngestConfigSchema } from '../../apps/ingest/src/config';
import { IngestModule } from '../../apps/ingest/src/ingest.module';
import { RoutingConfigSchema } from '../../apps/routing/src/config';
import { RoutingModule } from '../../apps/routing/src/routing.module';
import { SlaConfigSchema } from '../../apps/sla/src/config';
import { SlaModule } from '../../apps/sla/src/sla.module';

export const APP_SECRET = 'stack-app-secret-0123456789';
export const VERIFY_TOKEN = 'stack-verify-token-0123456789';
export const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
export const PASSWORD = 'agent-password-123';

/** Every line any Nest logger wrote (services log through Nest's Logger), to look for secrets in it. */
export class CapturedLogs implements LoggerService {
  readonly lines: string[] = [];
  private push(level: string, args: unknown[]) {
    this.lines.push(`${level} ${args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`);
  }
  log(...a: unknown[]) { this.push('log', a); }
  error(...a: unknown[]) { this.push('error', a); }
  warn(...a: unknown[]) { this.push('warn', a); }
  debug(...a: unknown[]) { this.push('debug', a); }
  verbose(...a: unknown[]) { this.push('verbose', a); }
  fatal(...a: unknown[]) { this.push('fatal', a); }
}

/**
 * Gateway (listening, signed webhook, OpenAPI), ingest, routing and sla in one process on a fresh database and NATS
 * namespace; notifications is played by a fake answering SendMessageV1. Used by the security and reliability suites.
 */
export class Stack {
  env!: TestEnv;
  gateway!: INestApplication;
  ingest!: INestApplication;
  routing!: INestApplication;
  sla!: INestApplication;
  peer!: NatsBus;
  ds!: DataSource;
  base!: string;
  logs = new CapturedLogs();
  readonly sends: RequestOf<typeof SendMessageV1>[] = [];
  readonly tokens: Record<string, string> = {};
  readonly ids: Record<string, string> = {};
  readonly teams: Record<string, string> = {};

  static async start(extra: Record<string, string> = {}): Promise<Stack> {
    const s = new Stack();
    s.env = await createTestEnv({
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
      MEDIA_DIR: `/tmp/sb-stack-${randomUUID()}`,
      ...extra,
    });
    s.ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, s.env.env)));
    s.routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, s.env.env)));
    s.sla = await startApp(SlaModule.register(parseConfig(SlaConfigSchema, s.env.env)));
    const cfg = parseConfig(GatewayConfigSchema, s.env.env);
    s.gateway = await startApp(GatewayModule.register(cfg), {
      listen: true,
      setup: (a) => {
        useWebhookRawBody(a, cfg.WEBHOOK_MAX_BYTES);
        useOpenApi(a);
      },
    });
    // startApp silences Nest's loggers; from here on every service line is kept
    Logger.overrideLogger(s.logs);
    s.ds = s.gateway.get(DataSource);
    s.base = `127.0.0.1:${(s.gateway.getHttpServer().address() as AddressInfo).port}`;
    s.peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: s.env.namespace, service: 'peer' });
    const first = new Map<string, string>();
    // notifications' check before a reply claims: this fake accepts every send
    await s.peer.respond(CheckSendV1, async (r) => ({ ok: true as const, duplicate: first.has(r.idempotencyKey) }));
    await s.peer.respond(SendMessageV1, async (r) => {
      s.sends.push(r);
      const known = first.get(r.idempotencyKey);
      if (!known) first.set(r.idempotencyKey, randomUUID());
      return { sendId: first.get(r.idempotencyKey)!, status: 'queued' as const, waMessageId: null, duplicate: !!known };
    });
    s.tokens.admin = (await s.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    return s;
  }

  async stop(): Promise<void> {
    Logger.overrideLogger(false);
    await this.peer?.close();
    await this.gateway?.close();
    await this.sla?.close();
    await this.routing?.close();
    await this.ingest?.close();
    await this.env?.cleanup();
  }

  http() {
    return request(this.gateway.getHttpServer());
  }

  as(who: string) {
    return { Authorization: `Bearer ${this.tokens[who]}` };
  }

  /** POSTs raw bytes to the webhook, signed with the app secret unless `signature` says otherwise. */
  webhook(raw: string | Buffer, signature: string | null = sign(raw, APP_SECRET)) {
    const r = this.http().post('/webhooks/whatsapp').set('Content-Type', 'application/json');
    if (signature !== null) r.set('X-Hub-Signature-256', signature);
    return r.send(raw);
  }

  async team(name: string): Promise<string> {
    this.teams[name] = (await this.http().post('/api/v1/teams').set(this.as('admin')).send({ name }).expect(201)).body.id;
    return this.teams[name];
  }

  async user(key: string, role: string, teamNames: string[]): Promise<string> {
    const res = await this.http()
      .post('/api/v1/users')
      .set(this.as('admin'))
      .send({ email: `${key}@example.test`, name: `User ${key}`, password: PASSWORD, role, teamIds: teamNames.map((t) => this.teams[t]) })
      .expect(201);
    this.ids[key] = res.body.id;
    await this.login(key);
    return res.body.id;
  }

  async login(key: string): Promise<{ accessToken: string; refreshToken: string }> {
    const pair = (await this.http().post('/api/v1/auth/login').send({ email: `${key}@example.test`, password: PASSWORD }).expect(200)).body;
    this.tokens[key] = pair.accessToken;
    return pair;
  }

  /** Waits for the conversation of a customer (by wa_id) as the admin sees it. */
  conversationOf(waId: string): Promise<{ id: string; version: number }> {
    return waitFor(
      async () => {
        const res = await this.http().get('/api/v1/conversations?view=all&limit=200').set(this.as('admin'));
        return res.body.items?.find((c: { contact: { waId: string } }) => c.contact.waId === waId) ?? null;
      },
      { what: `conversation of ${waId}`, timeoutMs: 15_000 },
    );
  }

  async sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.ds.query(text, params);
  }
}
