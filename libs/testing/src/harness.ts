import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { BaseConfigSchema } from '@app/config';
import { Bus, NatsBus } from '@app/messaging';
import { configureApp } from '@app/platform';
import { createTestDatabase, type TestDatabase } from './database';

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A NATS namespace of its own per test file: subjects, streams and queue groups never meet another run's. */
export function testNamespace(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

export interface TestEnv {
  db: TestDatabase;
  namespace: string;
  /** Environment for a service's config schema. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function createTestEnv(extra: Record<string, string> = {}): Promise<TestEnv> {
  const db = await createTestDatabase();
  const namespace = testNamespace();
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '5',
    NATS_URL: TEST_NATS_URL,
    NATS_NAMESPACE: namespace,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...extra,
  };
  return {
    db,
    namespace,
    env,
    async cleanup() {
      const bus = await NatsBus.connect({ url: TEST_NATS_URL, namespace, service: 'test-cleanup' });
      await bus.deleteNamespaceStreams();
      await bus.close();
      await db.drop();
    },
  };
}

/** Builds a service's Nest app exactly as main.ts does (configureApp), initialised but not listening. */
export async function startApp(
  module: unknown,
  opts: { listen?: boolean; setup?: (app: INestApplication) => void } = {},
): Promise<INestApplication> {
  const ref = await Test.createTestingModule({ imports: [module as never] }).compile();
  const app = configureApp(ref.createNestApplication({ logger: false }));
  opts.setup?.(app);
  if (opts.listen) await app.listen(0, '127.0.0.1');
  else await app.init();
  return app;
}

export function busOf(app: INestApplication): NatsBus {
  return app.get(Bus) as NatsBus;
}

export { BaseConfigSchema };
