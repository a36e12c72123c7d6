import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootService, migrateAndExit } from '@app/platform';
import { IngestConfigSchema } from './config';
import { ingestMigrations } from './migrations';
import { IngestModule } from './ingest.module';

const cfg = loadConfigOrExit('ingest', IngestConfigSchema);
if (process.argv.includes('--migrate')) {
  void migrateAndExit('ingest', { url: cfg.DATABASE_URL, schema: 'ingest', migrations: ingestMigrations });
} else {
  void bootService(IngestModule.register(cfg), {
    service: 'ingest',
    port: cfg.PORT,
    logLevel: cfg.LOG_LEVEL,
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
  });
}
