import { Inject, Injectable, OnApplicationBootstrap, type DynamicModule } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type MixedList } from 'typeorm';
import { PingV1, type EventContract, type PingableService } from '@app/contracts';
import { migrationsRun, type BaseConfig } from '@app/config';
import { Bus, MessagingModule } from '@app/messaging';
import { DatabaseModule } from '@app/persistence';
import { PlatformModule } from './platform.module';

export const SERVICE_NAME = Symbol('SERVICE_NAME');
export const INSTANCE_ID = randomUUID();
export const VERSION = process.env.npm_package_version ?? '0.1.0';

export interface CoreOptions {
  service: string;
  schema: string;
  entities?: MixedList<Function>;
  migrations: MixedList<Function>;
  outboxContracts?: EventContract[];
}

/** The modules every service imports: health + metrics, its NATS bus, its PostgreSQL schema (+ outbox). */
export function serviceCore(cfg: BaseConfig, opts: CoreOptions): DynamicModule[] {
  return [
    { module: PlatformModule, global: true },
    MessagingModule.forRoot({
      url: cfg.NATS_URL,
      namespace: cfg.NATS_NAMESPACE,
      service: opts.service,
      streamReplicas: cfg.NATS_STREAM_REPLICAS,
      transport: cfg.BUS,
      databaseUrl: cfg.DATABASE_URL,
    }),
    DatabaseModule.forService({
      schema: opts.schema,
      url: cfg.DATABASE_URL,
      poolSize: cfg.DATABASE_POOL_SIZE,
      entities: opts.entities ?? [],
      migrations: opts.migrations,
      migrationsRun: migrationsRun(cfg),
      // embedded bus (single-machine mode): every writer is in this process and kicks its relay when it adds an
      // event, so the timer only catches a failed pass; an empty pass costs 3 statements on the single backend
      outbox: opts.outboxContracts ? { contracts: opts.outboxContracts, pollIntervalMs: cfg.BUS === 'embedded' ? 5_000 : undefined } : undefined,
    }),
  ];
}

/** Answers `<service>.ping.v1` so the gateway can tell the service is up and its database reachable. */
@Injectable()
export class PingResponder implements OnApplicationBootstrap {
  constructor(
    @Inject(SERVICE_NAME) private readonly service: PingableService,
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(PingV1[this.service], async () => {
      const database = await this.ds
        .query('SELECT 1')
        .then(() => 'ok' as const)
        .catch(() => 'down' as const);
      return { service: this.service, instanceId: INSTANCE_ID, version: VERSION, database, time: new Date().toISOString() };
    });
  }
}

export function pingProviders(service: PingableService) {
  return [{ provide: SERVICE_NAME, useValue: service }, PingResponder];
}
