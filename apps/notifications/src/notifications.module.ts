import { DynamicModule, Module } from '@nestjs/common';
import { pingProviders, serviceCore } from '@app/platform';
import type { NotificationsConfig } from './config';
import { notificationsMigrations } from './migrations';

@Module({})
export class NotificationsModule {
  static register(cfg: NotificationsConfig): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [...serviceCore(cfg, { service: 'notifications', schema: 'notifications', migrations: notificationsMigrations })],
      providers: [...pingProviders('notifications')],
    };
  }
}
