'use strict';
/**
 * webhook-intake: signed webhooks (real fixture shape, ~1 KB, one text message each with a unique wamid) posted by
 * concurrent clients for a fixed duration to the gateway, with ingest running. Reports accepted/s, p50/p99 of the
 * 200 answer, end-to-end time from the 200 to the message row, and lost/duplicated counts; beside the bare floor
 * measured in the same run: single-row INSERT transactions on the same PostgreSQL, same concurrency and duration.
 */
const { createHmac, randomUUID } = require('node:crypto');
const { Client, Pool } = require('pg');
const { machine, fmt, summarize, httpRequest, createDatabase, startServices, cpuSeconds } = require('./lib');

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 32);
const SECRET = 'bench-secret';

function body(i) {
  const wamid = `wamid.bench-${i}-${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const raw = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '122951744235903',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550984277', phone_number_id: '114896151713920' },
              contacts: [{ profile: { name: `Bench Customer ${i % 500}` }, wa_id: `6017352${String(i % 500).padStart(4, '0')}` }],
              messages: [
                {
                  from: `6017352${String(i % 500).padStart(4, '0')}`,
                  id: wamid,
                  timestamp: String(ts),
                  text: { body: `Hello, I would like to know the status of my order number ${i}. `.repeat(8).slice(0, 600) },
                  type: 'text',
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
  return { raw, wamid, sig: `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}` };
}

async function timed(seconds, concurrency, fn) {
  const lat = [];
  let errors = 0;
  let i = 0;
  const deadline = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const n = i++;
        const s = process.hrtime.bigint();
        try {
          await fn(n);
          lat.push(Number(process.hrtime.bigint() - s) / 1e6);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ...summarize(lat), perSecond: lat.length / ((Date.now() - t0) / 1000), errors };
}

async function main() {
  console.log(`machine: ${machine()}`);
  console.log(`load: ${CONCURRENCY} concurrent clients for ${SECONDS} s, ~${body(0).raw.length} byte bodies`);
  const url = await createDatabase('sb_bench_intake');
  const ns = `bench${Date.now()}`;
  // BENCH_INGEST=after: measure the gateway's intake alone, start ingest once the load stops (drain time)
  const ingestAfter = process.env.BENCH_INGEST === 'after';
  console.log(`mode: ingest ${ingestAfter ? 'started after the intake phase' : 'running during the intake phase'}`);
  const svcEnv = { DATABASE_URL: url, NATS_NAMESPACE: ns, NODE_ENV: 'test', WHATSAPP_APP_SECRET: SECRET, DATABASE_POOL_SIZE: '20' };
  const svc = await startServices(ingestAfter ? ['gateway'] : ['gateway', 'ingest'], svcEnv);
  let late;
  const accepted = new Map(); // wamid → time of the 200
  try {
    const gw = svc.ports.gateway;
    // warm-up
    for (let i = 0; i < 200; i++) {
      const b = body(-i - 1);
      await httpRequest(gw, 'POST', '/webhooks/whatsapp', b.raw, { 'content-type': 'application/json', 'x-hub-signature-256': b.sig });
    }
    // CPU each service spends from here until every accepted webhook is a message row (load-independent cost)
    const cpuAt = (pids) => Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuSeconds(pid)]));
    const cpu0 = cpuAt(svc.pids);
    const intake = await timed(SECONDS, CONCURRENCY, async (n) => {
      const b = body(n);
      const r = await httpRequest(gw, 'POST', '/webhooks/whatsapp', b.raw, {
        'content-type': 'application/json',
        'x-hub-signature-256': b.sig,
      });
      if (r.status !== 200) throw new Error(String(r.status));
      accepted.set(b.wamid, Date.now());
    });

    if (ingestAfter) {
      late = await startServices(['ingest'], svcEnv);
      Object.assign(cpu0, cpuAt(late.pids)); // from its start-up done
    }
    // end to end: wait for every accepted wamid to become a message row
    const pg = new Client({ connectionString: url });
    await pg.connect();
    const deadline = Date.now() + 120000;
    let rows = [];
    for (;;) {
      const r = await pg.query(
        `SELECT wa_message_id, count(*)::int AS n, min(created_at) AS at FROM ingest.message
         WHERE wa_message_id LIKE 'wamid.bench-%' AND wa_message_id NOT LIKE 'wamid.bench--%' GROUP BY wa_message_id`,
      );
      rows = r.rows;
      if (rows.length >= accepted.size || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    await pg.end();
    const cpu1 = cpuAt({ ...svc.pids, ...(late?.pids ?? {}) });
    const cpuPerWebhook = Object.entries(cpu1)
      .map(([n, c]) => `${n} ${((1000 * (c - (cpu0[n] ?? 0))) / Math.max(1, accepted.size)).toFixed(2)} ms`)
      .join(', ');
    const stored = new Map(rows.map((r) => [r.wa_message_id, r]));
    const lost = [...accepted.keys()].filter((w) => !stored.has(w)).length;
    const duplicated = rows.filter((r) => r.n > 1).length;
    const e2e = summarize(
      [...accepted].filter(([w]) => stored.has(w)).map(([w, t]) => Math.max(0, new Date(stored.get(w).at).getTime() - t)),
    );

    // bare floor: single-row INSERT transactions, same concurrency and duration, same PostgreSQL
    const pool = new Pool({ connectionString: url, max: CONCURRENCY });
    await pool.query(`CREATE TABLE IF NOT EXISTS public.bench_floor (id uuid PRIMARY KEY, body text NOT NULL)`);
    const payload = body(0).raw;
    const floor = await timed(SECONDS, CONCURRENCY, () =>
      pool.query(`INSERT INTO public.bench_floor (id, body) VALUES ($1, $2)`, [randomUUID(), payload]),
    );
    await pool.end();

    console.log(`webhook 200 answer        ${fmt(intake)} accepted=${accepted.size} ${intake.perSecond.toFixed(0)}/s errors=${intake.errors}`);
    console.log(`200 → message row (e2e)   ${fmt(e2e)}`);
    console.log(`lost=${lost} duplicated=${duplicated}`);
    console.log(`CPU per accepted webhook (intake + drain): ${cpuPerWebhook}`);
    console.log(`floor: INSERT 1 row/tx    ${fmt(floor)} ${floor.perSecond.toFixed(0)}/s`);
  } finally {
    await svc.stop();
    await late?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
