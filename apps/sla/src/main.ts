import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootService, migrateAndExit } from '@app/platform';
import { SlaConfigSchema } from './config';
import { slaMigrations } from './migrations';
import { SlaModule } from './sla.module';

const cfg = loadConfigOrExit('sla', SlaConfigSchema);
if (process.argv.includes('--migrate')) {
  void migrateAndExit('sla', { url: cfg.DATABASE_URL, schema: 'sla', migrations: slaMigrations });
} else {
  void bootService(SlaModule.register(cfg), {
    service: 'sla',
    port: cfg.PORT,
    logLevel: cfg.LOG_LEVEL,
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
  });
}
