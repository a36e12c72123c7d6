import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootService, migrateAndExit } from '@app/platform';
import { NotificationsConfigSchema } from './config';
import { notificationsMigrations } from './migrations';
import { NotificationsModule } from './notifications.module';

const cfg = loadConfigOrExit('notifications', NotificationsConfigSchema);
if (process.argv.includes('--migrate')) {
  void migrateAndExit('notifications', { url: cfg.DATABASE_URL, schema: 'notifications', migrations: notificationsMigrations });
} else {
  void bootService(NotificationsModule.register(cfg), {
    service: 'notifications',
    port: cfg.PORT,
    logLevel: cfg.LOG_LEVEL,
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT_MS,
  });
}
