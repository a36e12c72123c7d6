import { DynamicModule, Module } from '@nestjs/common';
import { pingProviders, serviceCore } from '@app/platform';
import type { SlaConfig } from './config';
import { slaMigrations } from './migrations';

@Module({})
export class SlaModule {
  static register(cfg: SlaConfig): DynamicModule {
    return {
      module: SlaModule,
      imports: [...serviceCore(cfg, { service: 'sla', schema: 'sla', migrations: slaMigrations })],
      providers: [...pingProviders('sla')],
    };
  }
}
