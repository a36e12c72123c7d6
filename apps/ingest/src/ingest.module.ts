import { DynamicModule, Module } from '@nestjs/common';
import { pingProviders, serviceCore } from '@app/platform';
import type { IngestConfig } from './config';
import { ingestMigrations } from './migrations';

@Module({})
export class IngestModule {
  static register(cfg: IngestConfig): DynamicModule {
    return {
      module: IngestModule,
      imports: [...serviceCore(cfg, { service: 'ingest', schema: 'ingest', migrations: ingestMigrations })],
      providers: [...pingProviders('ingest')],
    };
  }
}
