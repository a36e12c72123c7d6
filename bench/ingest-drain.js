'use strict';
/**
 * ingest-drain: how fast ingest turns webhook receipts into message rows. N raw webhook bodies (one text message
 * each, real fixture shape, ~1 KB, 500 distinct customers on one number) are published on JetStream as the
 * gateway's relay would (WebhookReceivedV1), with the ingest service (built, its own process) consuming them.
 * Reports receipts/s from the first publish to the last message row, publish → row latency, lost/duplicated;
 * beside the bare floor measured in the same run: single-row INSERT transactions on the same PostgreSQL with
 * the same number of parallel workers as ingest's consumer.
 */
const { spawn } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const net = require('node:net');
const { connect, headers } = require('nats');
const { Client, Pool } = require('pg');
const { entryOf, ROOT } = require('../scripts/services');
const { build, isStale } = require('../scripts/build');
const { machine, fmt, summarize, createDatabase, httpRequest, load } = require('./lib');

/** A free port from the OS (other benchmarks may hold lib.js's fixed 39xx ports). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The built ingest service as its own process, as `npm start` runs it; resolves once it is live. */
async function startIngest(env) {
  if (isStale()) build();
  const port = await freePort();
  const child = spawn(process.execPath, [entryOf('ingest')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60000;
  for (;;) {
    const r = await httpRequest(port, 'GET', '/health/ready').catch(() => ({ status: 0 }));
    if (r.status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('ingest did not start');
    await new Promise((res) => setTimeout(res, 200));
  }
  return { stop: () => new Promise((res) => (child.exitCode !== null ? res() : (child.once('exit', res), child.kill('SIGTERM')))) };
}

const N = Number(process.env.BENCH_COUNT || 3000);
const WORKERS = Number(process.env.INGEST_WEBHOOK_CONCURRENCY || 4);

function body(i) {
  const wamid = `wamid.drain-${i}-${randomUUID()}`;
  const from = `6017352${String(i % 500).padStart(4, '0')}`;
  const raw = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '122951744235903', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550984277', phone_number_id: '114896151713920' },
      contacts: [{ profile: { name: `Drain Customer ${i % 500}` }, wa_id: from }],
      messages: [{ from, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text',
        text: { body: `Hello, I would like to know the status of my order number ${i}. `.repeat(8).slice(0, 600) } }],
    } }] }],
  });
  return { raw, wamid };
}

async function main() {
  console.log(`machine: ${machine()}`);
  console.log(`load: ${N} receipts, ingest consumer concurrency ${WORKERS}, ~${body(0).raw.length} byte bodies`);
  const url = await createDatabase('sb_bench_ingest_drain');
  const ns = `bench${Date.now()}`;
  const svc = await startIngest({
    DATABASE_URL: url, NATS_NAMESPACE: ns, NODE_ENV: 'test', DATABASE_POOL_SIZE: '10', INGEST_WEBHOOK_CONCURRENCY: String(WORKERS),
  });
  const nc = await connect({ servers: '127.0.0.1:4222' });
  const js = nc.jetstream();
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const published = new Map();
    const t0 = Date.now();
    const subject = `${ns}.webhook.whatsapp.received.v1`;
    await load(N, 32, async (i) => {
      const b = body(i);
      const eventId = randomUUID();
      const h = headers();
      h.set('x-correlation-id', eventId);
      await js.publish(subject, Buffer.from(JSON.stringify({ eventId, occurredAt: new Date().toISOString(), body: b.raw })), { msgID: eventId, headers: h });
      published.set(b.wamid, Date.now());
    });
    const publishSeconds = (Date.now() - t0) / 1000;
    let rows = [];
    const deadline = Date.now() + 300000;
    for (;;) {
      rows = (await pg.query(`SELECT wa_message_id, count(*)::int AS n, min(created_at) AS at FROM ingest.message GROUP BY 1`)).rows;
      if (rows.length >= N || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [{ last }] = (await pg.query(`SELECT max(created_at) AS last FROM ingest.message`)).rows;
    const seconds = (new Date(last).getTime() - t0) / 1000;
    const stored = new Map(rows.map((r) => [r.wa_message_id, r]));
    const lost = [...published.keys()].filter((w) => !stored.has(w)).length;
    const duplicated = rows.filter((r) => r.n > 1).length;
    const lat = summarize([...published].filter(([w]) => stored.has(w)).map(([w, t]) => Math.max(0, new Date(stored.get(w).at).getTime() - t)));

    const pool = new Pool({ connectionString: url, max: WORKERS });
    await pool.query(`CREATE TABLE IF NOT EXISTS public.bench_floor (id uuid PRIMARY KEY, body text NOT NULL)`);
    const payload = body(0).raw;
    const floor = await load(N, WORKERS, () => pool.query(`INSERT INTO public.bench_floor (id, body) VALUES ($1, $2)`, [randomUUID(), payload]));
    await pool.end();

    console.log(`published ${N} in ${publishSeconds.toFixed(2)} s`);
    console.log(`ingest: ${(rows.length / seconds).toFixed(0)} receipts/s (first publish → last row ${seconds.toFixed(2)} s)`);
    console.log(`publish → message row     ${fmt(lat)}`);
    console.log(`lost=${lost} duplicated=${duplicated}`);
    console.log(`floor: INSERT 1 row/tx    ${fmt(floor)} ${floor.perSecond.toFixed(0)}/s with ${WORKERS} workers`);
  } finally {
    await pg.end();
    await nc.close();
    await svc.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
