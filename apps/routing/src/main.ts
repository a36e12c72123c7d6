import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootService, migrateAndExit } from '@app/platform';
import { RoutingConfigSchema } from './config';
import { routingMigrations } from './migrations';
import { RoutingModule } from './routing.module';

const cfg = loadConfigOrExit('routing', RoutingConfigSchema);
if (process.argv.includes('--migrate')) {
  void migrateAndExit('routing', { url: cfg.DATABASE_URL, schema: 'routing', migrations: routingMigrations });
} else {
  void bootService(RoutingModule.register(cfg), {
    service: 'routing',
    port: cfg.PORT,
    logLevel: cfg.LOG_LEVEL,
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
  });
}
