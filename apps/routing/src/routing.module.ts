import { DynamicModule, Module } from '@nestjs/common';
import { pingProviders, serviceCore } from '@app/platform';
import type { RoutingConfig } from './config';
import { routingMigrations } from './migrations';

@Module({})
export class RoutingModule {
  static register(cfg: RoutingConfig): DynamicModule {
    return {
      module: RoutingModule,
      imports: [...serviceCore(cfg, { service: 'routing', schema: 'routing', migrations: routingMigrations })],
      providers: [...pingProviders('routing')],
    };
  }
}
