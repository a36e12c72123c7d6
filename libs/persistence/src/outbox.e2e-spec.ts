import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { defineEvent } from '@app/contracts';
import { Bus, MessagingModule, NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { commonTablesUp } from './common-tables';
import { claimEvent, claimEvents } from './processed-event';
import { DatabaseModule, openDataSource } from './database.module';
import { OutboxRelay, OutboxWriter } from './outbox';

const Happened = defineEvent({
  subject: 'inbox.outbox-test.happened.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({ eventId: z.string().uuid(), label: z.string() }),
});

class InitTest1000000000001 {
  name = 'InitTest1000000000001';
  async up(q: { query(sql: string): Promise<unknown> }) {
    for (const sql of commonTablesUp('outboxtest')) await q.query(sql);
    await q.query(`CREATE TABLE outboxtest.thing (id uuid PRIMARY KEY, label text NOT NULL)`);
  }
  async down() {}
}

@Injectable()
class ThingService {
  constructor(
    private readonly ds: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}
  create(label: string, fail = false) {
    return this.ds.transaction(async (em) => {
      const id = randomUUID();
      await em.query(`INSERT INTO outboxtest.thing (id, label) VALUES ($1, $2)`, [id, label]);
      await this.outbox.add(em, Happened, { eventId: randomUUID(), label });
      if (fail) throw new Error('rolled back');
      return id;
    });
  }
}

@Module({})
class TestModule {
  static register(env: Record<string, string>): DynamicModule {
    return {
      module: TestModule,
      imports: [
        MessagingModule.forRoot({ url: TEST_NATS_URL, namespace: env.NATS_NAMESPACE, service: 'outboxtest' }),
        DatabaseModule.forService({
          schema: 'outboxtest',
          url: env.DATABASE_URL,
          entities: [],
          migrations: [InitTest1000000000001],
          migrationsRun: true,
          outbox: { contracts: [Happened], pollIntervalMs: 100 },
        }),
      ],
      providers: [ThingService],
    };
  }
}

describe('transactional outbox on real PostgreSQL and JetStream', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(() => env.cleanup());

  it('publishes events of committed transactions only, each once', async () => {
    const app = await startApp(TestModule.register(env.env));
    const bus = app.get(Bus) as NatsBus;
    const seen: string[] = [];
    await bus.consume(Happened, { durable: 'outboxtest-reader' }, async (p) => {
      seen.push(p.label);
    });
    const svc = app.get(ThingService);
    await svc.create('kept');
    await expect(svc.create('lost', true)).rejects.toThrow('rolled back');
    await svc.create('kept-too');
    await waitFor(() => seen.length >= 2, { what: 'two events' });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.sort()).toEqual(['kept', 'kept-too']);
    const ds = app.get(DataSource);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM outboxtest.outbox WHERE published_at IS NULL`);
    expect(n).toBe(0);
    // published rows past the retention are pruned; unpublished ones never are
    await ds.query(`UPDATE outboxtest.outbox SET published_at = now() - interval '2 days'`);
    await ds.query(`INSERT INTO outboxtest.outbox (id, subject, payload) VALUES ($1, 'x', '{}')`, [randomUUID()]);
    await app.get(OutboxRelay).beforeApplicationShutdown();
    expect(await app.get(OutboxRelay).prune()).toBe(2);
    const left = await ds.query(`SELECT published_at FROM outboxtest.outbox`);
    expect(left).toEqual([{ published_at: null }]);
    await app.close();
  });

  it('claimEvent lets a consumer apply an event id once', async () => {
    const ds = await openDataSource({
      schema: 'outboxtest', url: env.env.DATABASE_URL, entities: [], migrations: [InitTest1000000000001], migrationsRun: true,
    });
    const id = randomUUID();
    const first = await ds.transaction((em) => claimEvent(em, 'outboxtest', 'c1', id));
    const second = await ds.transaction((em) => claimEvent(em, 'outboxtest', 'c1', id));
    const otherConsumer = await ds.transaction((em) => claimEvent(em, 'outboxtest', 'c2', id));
    expect([first, second, otherConsumer]).toEqual([true, false, true]);
    await ds.destroy();
  });

  it('collect: the events of a batch transaction are written by one INSERT in the order added, published once; none if it rolls back', async () => {
    const app = await startApp(TestModule.register(env.env));
    const bus = app.get(Bus) as NatsBus;
    const seen: string[] = [];
    await bus.consume(Happened, { durable: 'outboxtest-collect' }, async (p) => {
      if (p.label.startsWith('batch-')) seen.push(p.label);
    });
    const ds = app.get(DataSource);
    const outbox = app.get(OutboxWriter);
    const labels = Array.from({ length: 5 }, (_, i) => `batch-${i}`);
    const inserts: string[] = [];
    await ds.transaction(async (em) => {
      const query = em.query.bind(em);
      em.query = ((sql: string, params?: unknown[]) => (inserts.push(sql), query(sql, params))) as typeof em.query;
      await outbox.collect(em, async () => {
        for (const label of labels) await outbox.add(em, Happened, { eventId: randomUUID(), label });
        // nothing is written before the collection ends
        const [{ n }] = await query(`SELECT count(*)::int AS n FROM outboxtest.outbox WHERE payload->>'label' LIKE 'batch-%'`);
        expect(n).toBe(0);
      });
    });
    expect(inserts.filter((q) => q.includes('INSERT INTO outboxtest.outbox'))).toHaveLength(1);
    const rows = await ds.query(`SELECT payload->>'label' AS label FROM outboxtest.outbox WHERE payload->>'label' LIKE 'batch-%' ORDER BY created_at`);
    expect(rows.map((r: { label: string }) => r.label)).toEqual(labels);
    await expect(
      ds.transaction((em) =>
        outbox.collect(em, async () => {
          await outbox.add(em, Happened, { eventId: randomUUID(), label: 'batch-lost' });
          throw new Error('rolled back');
        }),
      ),
    ).rejects.toThrow('rolled back');
    await waitFor(() => seen.length >= labels.length, { what: 'the batch events' });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.sort()).toEqual(labels);
    await app.close();
  });

  it('a row that cannot be published stays unpublished with its error and is retried; the rest of its pass goes out', async () => {
    const app = await startApp(TestModule.register(env.env));
    const bus = app.get(Bus) as NatsBus;
    const seen: string[] = [];
    await bus.consume(Happened, { durable: 'outboxtest-neighbour' }, async (p) => {
      if (p.label === 'next-to-a-bad-row') seen.push(p.label);
    });
    const ds = app.get(DataSource);
    const bad = randomUUID();
    await ds.query(`INSERT INTO outboxtest.outbox (id, subject, payload) VALUES ($1, 'inbox.outbox-test.unknown.v1', '{}')`, [bad]);
    await app.get(ThingService).create('next-to-a-bad-row');
    await waitFor(() => seen.length === 1, { what: 'the good event' });
    await waitFor(async () => (await ds.query(`SELECT attempts FROM outboxtest.outbox WHERE id = $1`, [bad]))[0].attempts >= 2, { what: 'retries of the bad row' });
    const [row] = await ds.query(`SELECT published_at, last_error FROM outboxtest.outbox WHERE id = $1`, [bad]);
    expect(row.published_at).toBeNull();
    expect(row.last_error).toContain('no contract registered');
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM outboxtest.outbox WHERE published_at IS NULL AND subject = $1`, [Happened.subject]);
    expect(n).toBe(0);
    await ds.query(`DELETE FROM outboxtest.outbox WHERE id = $1`, [bad]);
    await app.close();
  });

  it('claimEvents claims several event ids in one statement: only those not applied before come back', async () => {
    const ds = await openDataSource({
      schema: 'outboxtest', url: env.env.DATABASE_URL, entities: [], migrations: [InitTest1000000000001], migrationsRun: true,
    });
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await ds.transaction((em) => claimEvent(em, 'outboxtest', 'many', b));
    const claimed = await ds.transaction((em) => claimEvents(em, 'outboxtest', 'many', [a, b, c, a]));
    expect([...claimed].sort()).toEqual([a, c].sort());
    expect((await ds.transaction((em) => claimEvents(em, 'outboxtest', 'many', [a, c]))).size).toBe(0);
    await ds.destroy();
  });

  it('fails start-up with a message naming DATABASE_URL when PostgreSQL is unreachable', async () => {
    await expect(
      openDataSource({
        schema: 'x', url: 'postgres://postgres@127.0.0.1:1/nowhere', entities: [], migrations: [], migrationsRun: true,
      }),
    ).rejects.toThrow(/cannot connect to PostgreSQL at DATABASE_URL \(127\.0\.0\.1:1\/nowhere\)/);
  });
});
