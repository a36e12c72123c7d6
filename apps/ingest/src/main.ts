import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootService, migrateAndExit } from '@app/platform';
import { IngestConfigSchema } from './config';
import { ingestMigrations } from './migrations';
import { lowerProcessPriority } from './process-priority';
import { IngestModule } from './ingest.module';

const cfg = loadConfigOrExit('ingest', IngestConfigSchema);
if (process.argv.includes('--migrate')) {
  void migrateAndExit('ingest', { url: cfg.DATABASE_URL, schema: 'ingest', migrations: ingestMigrations });
} else {
  // every thread of the process, not only the main one (niceness is per thread on Linux)
  if (cfg.INGEST_NICE > 0) lowerProcessPriority(cfg.INGEST_NICE);
  void bootService(IngestModule.register(cfg), {
    service: 'ingest',
    port: cfg.PORT,
    logLevel: cfg.LOG_LEVEL,
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
  });
}
