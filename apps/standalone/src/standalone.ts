import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { z } from 'zod';
import { boolSetting, parseConfig, portSetting } from '@app/config';
import { configureApp, collectDefaults, JsonLogger } from '@app/platform';
import { startEmbeddedPostgres } from '@app/persistence/embedded-postgres';
import { GatewayConfigSchema } from '../../gateway/src/config';
import { GatewayModule } from '../../gateway/src/gateway.module';
import { useOpenApi } from '../../gateway/src/inbox/openapi';
import { useWebhookRawBody } from '../../gateway/src/webhooks/whatsapp/raw-body';
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

/** Settings of the single-machine mode itself; every service still reads its own settings from the same env. */
export const StandaloneConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Where the embedded PostgreSQL keeps its files (and the bus its event log). */
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: portSetting(3000),
  /**
   * Where the inbox listens. This machine only by default: the demo users' password is public (DEMO_PASSWORD's
   * default); `HOST=0.0.0.0` opens it to the network (set DEMO_PASSWORD or SEED_DEMO=false first).
   */
  HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_PORT: portSetting(3005),
  /** Where the sandbox listens: this machine only by default, as anyone reaching it can write as any customer. */
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  /** `off`: no WhatsApp sandbox (never runs in production anyway). */
  SANDBOX: z.string().default('on'),
  /** Port of the embedded PostgreSQL on 127.0.0.1 (0 = any free port). */
  EMBEDDED_DB_PORT: portSetting(0),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(50).default(3),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SEED_DEMO: boolSetting.default(false),
});
export type StandaloneConfig = z.infer<typeof StandaloneConfigSchema>;

export interface Standalone {
  url: string;
  /** Whether the inbox listens on this machine only (HOST is a loopback address). */
  localOnly: boolean;
  sandboxUrl: string | null;
  dataDir: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;

/** configureApp without Nest's per-app signal handlers: one process, one shutdown (see `stop`). */
function configureWithoutSignals(app: INestApplication): void {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  configureApp(app);
  for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
}

/**
 * Single-machine mode: the embedded PostgreSQL (PGlite) and every service, the sandbox and the web client in this
 * one process, talking over the embedded bus. The services are the same modules as in the split deployment; only
 * DATABASE_URL (the embedded server) and BUS=embedded differ. Back-end services take no HTTP port of their own:
 * the gateway's /health/ready asks each of them over the bus, and /metrics covers the whole process.
 */
export async function startStandalone(env: NodeJS.ProcessEnv = process.env): Promise<Standalone> {
  const cfg = parseConfig(StandaloneConfigSchema, env);
  const pg = await startEmbeddedPostgres({ dataDir: cfg.DATA_DIR, port: cfg.EMBEDDED_DB_PORT });
  const apps: INestApplication[] = [];
  const stop = async () => {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    await pg.stop();
  };
  try {
    const withSandbox = cfg.SANDBOX !== 'off' && cfg.NODE_ENV !== 'production';
    // how this process reaches its own listeners: a wildcard address through loopback, a given address as given
    const at = (host: string, port: number) =>
      `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`;
    const shared: Record<string, unknown> = {
      ...env,
      DATABASE_URL: pg.url,
      BUS: 'embedded',
      DATABASE_POOL_SIZE: String(cfg.DATABASE_POOL_SIZE),
      // notifications: every send is queued in this process, which wakes the sender at once (SendWorker.kick); the
      // poll only picks up retries and deferred sends when due (≤ 1 s late), at 3 statements per empty pass
      OUTBOUND_POLL_MS: env.OUTBOUND_POLL_MS || '1000',
      // sla: a warning or breach is raised ≤ 1 s after it is due (instead of ≤ 250 ms); gateway: queued event webhooks
      // wake their sender at once (EventFanout.onQueued), the poll only picks up retries when due
      SLA_TIMER_POLL_MS: env.SLA_TIMER_POLL_MS || '1000',
      EVENT_WEBHOOK_POLL_MS: env.EVENT_WEBHOOK_POLL_MS || '2000',
      ...(withSandbox
        ? {
            GRAPH_API_BASE_URL: env.GRAPH_API_BASE_URL || at(cfg.SANDBOX_HOST, cfg.SANDBOX_PORT),
            SANDBOX_WEBHOOK_URL: env.SANDBOX_WEBHOOK_URL || `${at(cfg.HOST, cfg.PORT)}/webhooks/whatsapp`,
          }
        : {}),
    };
    collectDefaults('switchboard');
    const logger = (name: string) => new JsonLogger(name, cfg.LOG_LEVEL);
    let sandboxUrl: string | null = null;
    if (withSandbox) {
      const sandbox = await NestFactory.create(SandboxModule.register(parseConfig(SandboxConfigSchema, { ...shared, PORT: String(cfg.SANDBOX_PORT) })), {
        logger: logger('sandbox'),
        bodyParser: true,
      });
      apps.push(sandbox);
      await sandbox.listen(cfg.SANDBOX_PORT, cfg.SANDBOX_HOST);
      sandboxUrl = at(cfg.SANDBOX_HOST, cfg.SANDBOX_PORT);
    }
    // back-end services first (each runs its migrations), one at a time: PGlite runs one transaction at a time anyway
    const backends: [string, () => unknown][] = [
      ['ingest', () => IngestModule.register(parseConfig(IngestConfigSchema, shared))],
      ['routing', () => RoutingModule.register(parseConfig(RoutingConfigSchema, shared))],
      ['sla', () => SlaModule.register(parseConfig(SlaConfigSchema, shared))],
      ['notifications', () => NotificationsModule.register(parseConfig(NotificationsConfigSchema, shared))],
    ];
    for (const [name, module] of backends) {
      const app = await NestFactory.create(module() as never, { logger: logger(name) });
      configureWithoutSignals(app);
      apps.push(app);
      await app.init();
    }
    const gatewayCfg = parseConfig(GatewayConfigSchema, { ...shared, PORT: String(cfg.PORT), HOST: cfg.HOST });
    const gateway = await NestFactory.create(GatewayModule.register(gatewayCfg), { logger: logger('gateway') });
    configureWithoutSignals(gateway);
    useWebhookRawBody(gateway, gatewayCfg.WEBHOOK_MAX_BYTES);
    useOpenApi(gateway);
    apps.push(gateway);
    await gateway.listen(cfg.PORT, cfg.HOST);
    return { url: `http://localhost:${cfg.PORT}`, localOnly: isLoopback(cfg.HOST), sandboxUrl, dataDir: pg.dataDir, databaseUrl: pg.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
