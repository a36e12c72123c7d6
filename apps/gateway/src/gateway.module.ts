import { DynamicModule, Module } from '@nestjs/common';
import { serviceCore } from '@app/platform';
import type { GatewayConfig } from './config';
import { gatewayMigrations } from './migrations';
import { SystemModule } from './system/system.module';

@Module({})
export class GatewayModule {
  static register(cfg: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [...serviceCore(cfg, { service: 'gateway', schema: 'gateway', migrations: gatewayMigrations }), SystemModule],
    };
  }
}
