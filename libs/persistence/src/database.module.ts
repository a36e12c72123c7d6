import { DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions, type MixedList } from 'typeorm';
import { OUTBOX_OPTIONS, OutboxRelay, OutboxWriter, type OutboxOptions } from './outbox';

export interface DatabaseOptions {
  /** The PostgreSQL schema this service owns. */
  schema: string;
  url: string;
  poolSize?: number;
  entities: MixedList<Function>;
  migrations: MixedList<Function>;
  migrationsRun: boolean;
  outbox?: Omit<OutboxOptions, 'schema'>;
}

export function dataSourceOptions(opts: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    extra: { max: opts.poolSize ?? 10, connectionTimeoutMillis: 5_000, statement_timeout: 30_000 },
  };
}

/** Initialise with a clear error, then run this service's migrations under an advisory lock (replicas race). */
export async function openDataSource(opts: DatabaseOptions): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(opts));
  const u = new URL(opts.url);
  try {
    await ds.initialize();
  } catch (err) {
    throw new Error(
      `cannot connect to PostgreSQL at DATABASE_URL (${u.hostname}:${u.port || 5432}${u.pathname}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (opts.migrationsRun) await runMigrations(ds, opts.schema);
  return ds;
}

export async function runMigrations(ds: DataSource, schema: string): Promise<string[]> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query(`SELECT pg_advisory_lock(hashtext('switchboard-migrate-' || $1))`, [schema]);
    await qr.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const done = await ds.runMigrations({ transaction: 'each' });
    if (done.length) new Logger('Database').log(`${schema}: applied ${done.map((m) => m.name).join(', ')}`);
    return done.map((m) => m.name);
  } finally {
    await qr.query(`SELECT pg_advisory_unlock(hashtext('switchboard-migrate-' || $1))`, [schema]).catch(() => undefined);
    await qr.release();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forService(opts: DatabaseOptions): DynamicModule {
    const outboxProviders = opts.outbox
      ? [{ provide: OUTBOX_OPTIONS, useValue: { ...opts.outbox, schema: opts.schema } }, OutboxWriter, OutboxRelay]
      : [];
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(opts), retryAttempts: 0, manualInitialization: true }),
          dataSourceFactory: async () => openDataSource(opts),
        }),
      ],
      providers: [...outboxProviders],
      exports: [TypeOrmModule, ...outboxProviders],
    };
  }
}
