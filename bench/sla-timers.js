'use strict';
/**
 * `npm run bench -- sla-timers`: the sla service's durable timers under 100,000 active clocks and reminders.
 * Two built sla replicas (own processes) poll one timer table. The table holds BENCH_ACTIVE pending rows: running
 * SLA clocks (conversation + clock + breach/warning timers, due later than the run) and reminders, of which
 * BENCH_FIRING reminders come due during the run, spread evenly over BENCH_SECONDS. For each firing reminder we
 * measure fire lag = due time → its NoticeRequestedV1 event received from JetStream (what people see), and count
 * double fires (two events for one reminder) and missed ones (no event once the run is over).
 * Floors in the same run: a bare JetStream publish → receive on the same NATS, and a bare
 * "claim 500 due rows FOR UPDATE SKIP LOCKED + mark them" loop on a plain table in the same PostgreSQL.
 */
const { spawn } = require('node:child_process');
const { Client } = require('pg');
const { connect, AckPolicy, DeliverPolicy, JSONCodec } = require('nats');
const { entryOf, ROOT } = require('../scripts/services');
const { execFileSync } = require('node:child_process');
const { machine, createDatabase, httpRequest, summarize } = require('./lib');

const ACTIVE = Number(process.env.BENCH_ACTIVE || 100_000);
const FIRING = Number(process.env.BENCH_FIRING || 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS || 20);
const REPLICAS = Number(process.env.BENCH_REPLICAS || 2);
const POLL_MS = Number(process.env.BENCH_POLL_MS || 100);
const jc = JSONCodec();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f1 = (ms) => `${ms.toFixed(1)} ms`;

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = require('node:net').createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startSla(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [entryOf('sla')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await httpRequest(port, 'GET', '/health/ready').catch(() => ({ status: 0 }));
    if (r.status === 200) break;
    if (Date.now() > deadline) throw new Error('sla did not start');
    await sleep(200);
  }
  return { stop: () => new Promise((res) => (child.exitCode !== null ? res() : (child.once('exit', res), child.kill('SIGTERM')))) };
}

/** Reads every event on `subject` from the start of the namespace's INBOX_EVENTS stream, calling `each`. */
async function tail(nc, ns, subject, each) {
  const jsm = await nc.jetstreamManager();
  const stream = `${ns}_INBOX_EVENTS`;
  for (let i = 0; ; i++) {
    try {
      await jsm.streams.info(stream);
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
  // a pull consumer filtered on the one subject (nats-server 2.9: filter_subject, not filter_subjects)
  const name = `bench_${Date.now()}`;
  await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: `${ns}.${subject}` });
  const consumer = await nc.jetstream().consumers.get(stream, name);
  const messages = await consumer.consume({ max_messages: 1000 });
  void (async () => {
    for await (const m of messages) each(m.json(), Date.now());
  })();
  return messages;
}

async function bareFloors(url, nc, ns) {
  // JetStream publish → receive on the same server
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const stream = `${ns}_FLOOR`;
  await jsm.streams.add({ name: stream, subjects: [`${ns}.floor.>`] });
  const sent = new Map();
  const lags = [];
  await jsm.consumers.add(stream, { durable_name: 'floor', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
  const c = await js.consumers.get(stream, 'floor');
  const sub = await c.consume({ max_messages: 1000 });
  const done = (async () => {
    for await (const m of sub) {
      const t = sent.get(m.headers?.get('i'));
      if (t !== undefined) lags.push(Date.now() - t);
      if (lags.length >= 2000) break;
    }
  })();
  const { headers } = require('nats');
  for (let i = 0; i < 2000; i++) {
    const h = headers();
    h.set('i', String(i));
    sent.set(String(i), Date.now());
    await js.publish(`${ns}.floor.x`, jc.encode({ i }), { headers: h });
    if (i % 250 === 249) await sleep(125); // ~2,000/s offered, like the timers
  }
  await Promise.race([done, sleep(10_000)]);
  await jsm.streams.delete(stream);
  // claim 500 due rows FOR UPDATE SKIP LOCKED + mark fired, on a plain table
  const pg = new Client({ connectionString: url });
  await pg.connect();
  await pg.query(`CREATE TABLE public.floor_timer (id bigserial PRIMARY KEY, due_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'pending')`);
  await pg.query(`CREATE INDEX ON public.floor_timer (due_at) WHERE status = 'pending'`);
  await pg.query(`INSERT INTO public.floor_timer (due_at) SELECT now() - interval '1 second' FROM generate_series(1, 50000)`);
  const t0 = Date.now();
  let n = 0;
  const batchMs = [];
  for (;;) {
    const b0 = process.hrtime.bigint();
    await pg.query('BEGIN');
    const r = await pg.query(
      `WITH due AS (SELECT id FROM public.floor_timer WHERE status = 'pending' AND due_at <= now() ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED)
       UPDATE public.floor_timer t SET status = 'fired' FROM due WHERE t.id = due.id RETURNING t.id`,
    );
    await pg.query('COMMIT');
    batchMs.push(Number(process.hrtime.bigint() - b0) / 1e6);
    n += r.rowCount;
    if (r.rowCount === 0) break;
  }
  const claimRate = n / ((Date.now() - t0) / 1000);
  await pg.query('DROP TABLE public.floor_timer');
  await pg.end();
  return { js: summarize(lags), claimRate, claimBatch: summarize(batchMs) };
}

async function main() {
  console.log(`machine: ${machine()}`);
  // only the sla app is needed (a full build would also compile the other apps)
  console.log('building sla (nest build sla)…');
  execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', 'sla'], { cwd: ROOT, stdio: 'inherit' });
  const url = await createDatabase('sb_bench_sla_timers');
  const ns = `bench${Date.now()}`;
  const env = { DATABASE_URL: url, NATS_NAMESPACE: ns, NODE_ENV: 'test', SLA_TIMER_POLL_MS: String(POLL_MS), DATABASE_POOL_SIZE: '8' };
  const first = await startSla(env); // runs the migrations
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const nc = await connect({ servers: process.env.NATS_URL?.replace(/^nats:\/\//, '') || '127.0.0.1:4222' });

  // the active set: running clocks (due after the run) and reminders (FIRING of them due during the run)
  const clocks = ACTIVE - FIRING;
  console.log(`seeding ${clocks} running clocks and ${FIRING} reminders due over ${SECONDS} s …`);
  await pg.query(
    `INSERT INTO sla.conversation (conversation_id, team_id, status, cycle_start_at, awaiting_since)
     SELECT gen_random_uuid(), gen_random_uuid(), 'open', now(), now() FROM generate_series(1, $1)`,
    [clocks],
  );
  await pg.query(
    `INSERT INTO sla.clock (conversation_id, target, started_at, target_ms, warn_at_percent, due_at, warn_at)
     SELECT conversation_id, 'firstResponse', now(), 86400000, 80, now() + interval '1 day', now() + interval '19 hours' FROM sla.conversation`,
  );
  await pg.query(
    `INSERT INTO sla.timer (kind, conversation_id, ref, due_at)
     SELECT k, conversation_id, 'firstResponse', CASE k WHEN 'clock.breach' THEN now() + interval '1 day' ELSE now() + interval '19 hours' END
     FROM sla.conversation, unnest(ARRAY['clock.warning', 'clock.breach']) k`,
  );
  // the firing window starts once everything is seeded and the other replicas are up
  const start = Date.now() + 15_000;
  const end = start + SECONDS * 1000;
  const reminders = await pg.query(
    `WITH r AS (
       INSERT INTO sla.reminder (conversation_id, user_id, at, note)
       SELECT gen_random_uuid(), gen_random_uuid()::text, to_timestamp(($2 + (g - 1) * $3::double precision / $1) / 1000.0), NULL
       FROM generate_series(1, $1) g RETURNING id, conversation_id, at)
     INSERT INTO sla.timer (kind, conversation_id, ref, due_at) SELECT 'reminder', conversation_id, id::text, at FROM r RETURNING ref, due_at`,
    [FIRING, start, end - start],
  );
  const due = new Map(reminders.rows.map((r) => [r.ref, new Date(r.due_at).getTime()]));
  await pg.query('ANALYZE');
  const [{ n: pending }] = (await pg.query(`SELECT count(*)::int AS n FROM sla.timer WHERE status = 'pending'`)).rows;
  console.log(`pending timers: ${pending}`);

  const replicas = [first];
  for (let i = 1; i < REPLICAS; i++) replicas.push(await startSla(env));
  const seen = new Map();
  const lags = [];
  const sub = await tail(nc, ns, 'inbox.notice.requested.v1', (e, at) => {
    const id = e.data?.reminderId;
    if (!id) return;
    const c = (seen.get(id) ?? 0) + 1;
    seen.set(id, c);
    if (c === 1 && due.has(id)) lags.push(at - due.get(id));
  });
  const deadline = Math.max(end, Date.now()) + 60_000;
  let last = -1;
  while (Date.now() < deadline && lags.length < FIRING) {
    await sleep(1000);
    if (lags.length !== last) console.log(`… ${lags.length} of ${FIRING} fired events received`);
    last = lags.length;
  }
  await sleep(2_000); // anything doubled would arrive by now
  const doubles = [...seen.values()].filter((c) => c > 1).length;
  const missed = [...due.keys()].filter((id) => !seen.has(id)).length;
  const fired = (await pg.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE late)::int AS late FROM sla.timer WHERE kind = 'reminder' AND status = 'fired'`)).rows[0];
  const dbLag = (
    await pg.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM (SELECT extract(epoch FROM fired_at - due_at) * 1000 AS ms FROM sla.timer WHERE kind = 'reminder' AND status = 'fired') x`,
    )
  ).rows[0];
  await Promise.race([sub.close(), sleep(2_000)]);
  for (const r of replicas) await r.stop();
  console.log('measuring the floors …');

  const floors = await bareFloors(url, nc, ns);
  await pg.end();
  await nc.drain();

  const s = summarize(lags);
  console.log(`\n| what | n | p50 | p99 | double | missed |`);
  console.log(`|---|---|---|---|---|---|`);
  console.log(
    `| reminder due → NoticeRequestedV1 received (${REPLICAS} replicas, poll ${POLL_MS} ms, ${ACTIVE.toLocaleString('en')} active, ${(FIRING / SECONDS).toFixed(0)}/s due) | ${s.n} | ${f1(s.p50)} | ${f1(s.p99)} | ${doubles} | ${missed} |`,
  );
  console.log(`| due → fired in PostgreSQL (timer row) | ${fired.n} | ${f1(Number(dbLag.p50))} | ${f1(Number(dbLag.p99))} | — | late-flagged ${fired.late} |`);
  console.log(`| floor: bare JetStream publish → receive (~2,000/s) | ${floors.js.n} | ${f1(floors.js.p50)} | ${f1(floors.js.p99)} | — | — |`);
  console.log(
    `| floor: bare claim 500 rows SKIP LOCKED + mark, one connection | ${Math.round(floors.claimRate).toLocaleString('en')} rows/s | ${f1(floors.claimBatch.p50)} /batch | ${f1(floors.claimBatch.p99)} /batch | — | — |`,
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
