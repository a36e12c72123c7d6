'use strict';
/**
 * First benchmark: one HTTP request through the gateway → NATS request → ingest (which runs SELECT 1) → back,
 * beside its bare floors measured in the same run: a bare `SELECT 1` round trip, and a bare NATS request/reply.
 */
const { connect } = require('nats');
const { Client } = require('pg');
const { machine, fmt, httpRequest, createDatabase, startServices, load } = require('./lib');

const N = Number(process.env.BENCH_N || 3000);

async function main() {
  console.log(`machine: ${machine()}`);
  const url = await createDatabase('sb_bench_roundtrip');
  const ns = `bench${Date.now()}`;
  const svc = await startServices(['gateway', 'ingest'], { DATABASE_URL: url, NATS_NAMESPACE: ns, NODE_ENV: 'test' });
  try {
    const gw = svc.ports.gateway;
    await load(200, 4, () => httpRequest(gw, 'GET', '/api/v1/system/services/ingest')); // warm-up
    const results = {};
    for (const c of [1, 16]) {
      results[`gateway→ingest, concurrency ${c}`] = await load(N, c, async () => {
        const r = await httpRequest(gw, 'GET', '/api/v1/system/services/ingest');
        if (r.status !== 200) throw new Error(String(r.status));
      });
    }
    const pg = new Client({ connectionString: url });
    await pg.connect();
    for (let i = 0; i < 200; i++) await pg.query('SELECT 1');
    results['bare SELECT 1 (one connection)'] = await load(N, 1, () => pg.query('SELECT 1'));
    await pg.end();

    const nc = await connect({ servers: '127.0.0.1:4222' });
    const sub = nc.subscribe(`${ns}.bench.echo`);
    (async () => {
      for await (const m of sub) m.respond(m.data);
    })();
    await nc.flush();
    for (const c of [1, 16]) {
      results[`bare NATS request/reply, concurrency ${c}`] = await load(N, c, () =>
        nc.request(`${ns}.bench.echo`, new Uint8Array(16), { timeout: 2000 }),
      );
    }
    await nc.close();
    for (const [k, r] of Object.entries(results)) {
      console.log(`${k.padEnd(42)} ${fmt(r)} ${r.perSecond.toFixed(0)}/s errors=${r.errors}`);
    }
  } finally {
    await svc.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
