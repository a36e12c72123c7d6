import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootService, migrateAndExit } from '@app/platform';
import { GatewayConfigSchema } from './config';
import { gatewayMigrations } from './migrations';
import { GatewayModule } from './gateway.module';
import { useOpenApi } from './inbox/openapi';
import { useWebhookRawBody } from './webhooks/whatsapp/raw-body';

const cfg = loadConfigOrExit('gateway', GatewayConfigSchema);
if (process.argv.includes('--migrate')) {
  void migrateAndExit('gateway', { url: cfg.DATABASE_URL, schema: 'gateway', migrations: gatewayMigrations });
} else {
  void bootService(GatewayModule.register(cfg), {
    service: 'gateway',
    port: cfg.PORT,
    host: cfg.HOST,
    logLevel: cfg.LOG_LEVEL,
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
    setup: (app) => {
      useWebhookRawBody(app, cfg.WEBHOOK_MAX_BYTES);
      useOpenApi(app);
    },
  });
}
