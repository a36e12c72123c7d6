import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, type TestEnv } from '@app/testing';
import { ManualClock } from '../src/clock/clock';
import { SlaConfigSchema } from '../src/config';
import { SlaModule } from '../src/sla.module';
import { TimerWorker } from '../src/timers/timer.worker';

/**
 * Three sla replicas on one database share 10,000 timers due in the same second: each fires exactly once, and a
 * replica whose connection is killed mid-batch loses none (its transaction rolls back; the others take the rows).
 * Polling is off: the test drives the replicas' passes itself, all at once.
 */
const N = 10_000;
const LATE = 10;

describe('sla durable timers across replicas (real PostgreSQL)', () => {
  let env: TestEnv;
  const replicas: INestApplication[] = [];
  const clocks = [new ManualClock(), new ManualClock(), new ManualClock()];

  beforeAll(async () => {
    env = await createTestEnv({ SLA_TIMER_POLL_MS: '0', SLA_TIMER_BATCH: '500', DATABASE_POOL_SIZE: '3' });
    for (const clock of clocks) replicas.push(await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env), { clock })));
  }, 60_000);
  afterAll(async () => {
    for (const r of replicas) await r.close().catch(() => undefined);
    await env?.cleanup();
  });

  it('10,000 timers due in the same second fire exactly once over 3 replicas; one killed mid-batch loses none', async () => {
    const db = replicas[0].get(DataSource);
    const due = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
    // N reminders due in the same second, plus a few that came due an hour ago while "the service was down"
    await db.query(
      `WITH r AS (
         INSERT INTO sla.reminder (conversation_id, user_id, at, note)
         SELECT gen_random_uuid(), gen_random_uuid()::text, CASE WHEN g <= $3 THEN $1::timestamptz - interval '1 hour' ELSE $1::timestamptz + (g % 1000) * interval '1 millisecond' END, 'r' || g
         FROM generate_series(1, $2) g RETURNING id, conversation_id, at)
       INSERT INTO sla.timer (kind, conversation_id, ref, due_at) SELECT 'reminder', conversation_id, id::text, at FROM r`,
      [due, N, LATE],
    );
    for (const c of clocks) c.set(due.getTime() + 1_000);

    const counts = [0, 0, 0];
    const [a, b, c] = replicas.map((r) => r.get(TimerWorker));
    a.beforeFire = async () => void counts[0]++;
    b.beforeFire = async () => void counts[1]++;
    let began!: () => void;
    const cHasBatch = new Promise<void>((r) => (began = r));
    c.beforeFire = async (_t, em) => {
      if (++counts[2] === 1) began();
      // the third replica dies in the middle of its first batch: its connection is killed under it
      if (counts[2] === 100) {
        const [{ pid }] = await em.query('SELECT pg_backend_pid() AS pid');
        await db.query('SELECT pg_terminate_backend($1)', [pid]);
      }
    };
    // the doomed replica claims its batch first (so it surely holds rows when it dies), then the others start
    const cDone = c.drain();
    await cHasBatch;
    const results = await Promise.allSettled([a.drain(), b.drain(), cDone]);
    expect(results[2].status).toBe('rejected');
    await replicas[2].close().catch(() => undefined);
    replicas.pop();
    // whatever the dead replica had claimed is pending again once its transaction is gone
    const more = await a.drain();

    const [t] = await db.query(
      `SELECT count(*) FILTER (WHERE status = 'fired')::int AS fired, count(*) FILTER (WHERE status <> 'fired')::int AS other,
              count(*) FILTER (WHERE late)::int AS late FROM sla.timer`,
    );
    expect(t).toEqual({ fired: N, other: 0, late: LATE });
    const [r] = await db.query(`SELECT count(*) FILTER (WHERE state = 'fired')::int AS fired, count(*)::int AS total FROM sla.reminder`);
    expect(r).toEqual({ fired: N, total: N });
    // exactly one notice per reminder: no double, no missed
    const [o] = await db.query(
      `SELECT count(*)::int AS notices, count(DISTINCT payload->'data'->>'reminderId')::int AS distinct_reminders
       FROM sla.outbox WHERE subject = 'inbox.notice.requested.v1'`,
    );
    expect(o).toEqual({ notices: N, distinct_reminders: N });
    // the committed fires were done by the two live replicas; the killed one's work was rolled back and redone
    expect(counts[0] + counts[1]).toBe(N);
    expect(counts[2]).toBeGreaterThanOrEqual(100);
    expect(more).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
