import 'reflect-metadata';
import { setPriority } from 'node:os';
import { loadConfigOrExit } from '@app/config';
import { bootService, migrateAndExit } from '@app/platform';
import { IngestConfigSchema } from './config';
import { ingestMigrations } from './migrations';
import { IngestModule } from './ingest.module';

const cfg = loadConfigOrExit('ingest', IngestConfigSchema);
if (process.argv.includes('--migrate')) {
  void migrateAndExit('ingest', { url: cfg.DATABASE_URL, schema: 'ingest', migrations: ingestMigrations });
} else {
  // raising one's own niceness needs no privilege; a failure (some sandboxes) only leaves the normal priority
  try {
    if (cfg.INGEST_NICE > 0) setPriority(cfg.INGEST_NICE);
  } catch {
    /* keep the normal priority */
  }
  void bootService(IngestModule.register(cfg), {
    service: 'ingest',
    port: cfg.PORT,
    logLevel: cfg.LOG_LEVEL,
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
  });
}
