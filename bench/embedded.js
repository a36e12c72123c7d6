'use strict';
/**
 * `npm run bench -- embedded`: single-machine mode (the built apps/standalone: every service + PGlite + the
 * embedded bus in one process, as `npm start` runs it without DATABASE_URL/NATS_URL).
 *  - time from process start to /health/ready 200: first start on an empty data directory (migrations) and a
 *    restart on the same directory (goal ≤ 15 s after build);
 *  - RSS at idle and its peak while signed webhooks arrive at 100 messages/s for 10 s (goal ≤ 400 MB), and
 *    whether ingest keeps up (messages stored when the load stops, and how long until all are);
 *  - sustained messages/s: 500 webhooks as fast as 16 clients send them, until every message row exists;
 *  - floor, same run, same wire server: one-row INSERT transactions on one connection to the embedded database.
 * The process is launched as `npm start` launches it (STANDALONE_NODE_ARGS, standaloneEnv). Next to each RSS figure,
 * where it goes, from /proc/<pid>/smaps: V8 heap pages (both isolates), malloc arenas, PGlite's WASM memory (the one
 * anonymous mapping over 64 MB), the node binary's code, the rest.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { machine, httpRequest, load, summarize, fmt, freePort } = require('./lib');
const { build, isStale } = require('../scripts/build');
const { entryOf, ROOT, STANDALONE_NODE_ARGS, standaloneEnv } = require('../scripts/services');

const SECRET = 'sandbox-app-secret';
const RATE_TOTAL = 1_000; // 100/s for 10 s
const BURST = 500;
const NUMBER = '106540352242922';

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** RSS by kind of mapping, in MB (resident pages only). */
function rssBreakdown(pid) {
  const parts = { v8: 0, malloc: 0, wasm: 0, binary: 0, other: 0 };
  let kind = 'other';
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const mb = (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1048576;
      const name = head[4];
      if (name === '[heap]') kind = 'malloc';
      else if (name === process.execPath || name.endsWith('/node')) kind = 'binary';
      else if (name) kind = 'other';
      else if (mb === 0.25) kind = 'v8'; // V8 allocates its heap in 256 KB pages
      else if (mb > 64) kind = 'wasm'; // the WASM linear memory (≥ 128 MB reserved)
      else if (head[3] === 'rw-p' && mb > 4) kind = 'malloc'; // a thread's arena (64 MB reserved, part rw)
      else kind = 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) parts[kind] += Number(rss[1]) / 1024;
  }
  const f = (n) => n.toFixed(0);
  return `V8 heaps ${f(parts.v8)}, malloc ${f(parts.malloc)}, PGlite WASM memory ${f(parts.wasm)}, node binary ${f(parts.binary)}, other ${f(parts.other)} MB`;
}

function webhook(i) {
  const from = `4916${String(10_000_000 + i)}`;
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550000000', phone_number_id: NUMBER },
              contacts: [{ profile: { name: `Customer ${i}` }, wa_id: from }],
              messages: [{ from, id: `wamid.bench-${crypto.randomUUID()}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: `message ${i}` } }],
            },
          },
        ],
      },
    ],
  });
}

async function post(port, i) {
  const raw = webhook(i);
  const sig = 'sha256=' + crypto.createHmac('sha256', SECRET).update(raw).digest('hex');
  const r = await httpRequest(port, 'POST', '/webhooks/whatsapp', raw, { 'content-type': 'application/json', 'x-hub-signature-256': sig });
  if (r.status !== 200) throw new Error(`webhook ${r.status}`);
}

async function start(env) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [...STANDALONE_NODE_ARGS, entryOf('standalone')], { cwd: ROOT, env: standaloneEnv(env), stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    const r = await httpRequest(Number(env.PORT), 'GET', '/health/ready').catch(() => ({ status: 0 }));
    if (r.status === 200) return { child, readyMs: Date.now() - t0 };
    if (child.exitCode !== null) throw new Error('standalone exited');
    if (Date.now() - t0 > 120_000) throw new Error('not ready after 120 s');
    await new Promise((res) => setTimeout(res, 100));
  }
}
const stop = (child) => new Promise((res) => (child.exitCode !== null ? res() : (child.once('exit', res), child.kill('SIGTERM'))));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  if (isStale('standalone')) build('standalone');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-embedded-'));
  const [port, sandboxPort, dbPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH,
    DATA_DIR: dir,
    PORT: String(port),
    SANDBOX_PORT: String(sandboxPort),
    EMBEDDED_DB_PORT: String(dbPort),
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_VERIFY_TOKEN: 'sandbox-verify-token',
    WHATSAPP_ACCESS_TOKEN: 'sandbox-token',
    SEED_DEMO: 'true',
    LOG_LEVEL: 'warn',
    MEDIA_DIR: path.join(dir, 'media'),
  };
  const loadNow = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ');
  console.log(`embedded (single-machine mode) on ${machine()}; load average (1/5/15 min) ${loadNow()}`);
  const first = await start(env);
  console.log(`ready, first start (empty data dir, migrations, demo seed): ${(first.readyMs / 1000).toFixed(1)} s`);
  await stop(first.child);
  const { child, readyMs } = await start(env);
  console.log(`ready, restart on the same data dir: ${(readyMs / 1000).toFixed(1)} s`);
  await sleep(5_000);
  console.log(`RSS idle: ${rssMb(child.pid).toFixed(0)} MB (${rssBreakdown(child.pid)}); node ${STANDALONE_NODE_ARGS.join(' ')}, MALLOC_ARENA_MAX=${standaloneEnv(env).MALLOC_ARENA_MAX}`);

  const db = new Client({ connectionString: `postgres://postgres@127.0.0.1:${dbPort}/postgres` });
  await db.connect();
  const messages = async () => Number((await db.query('SELECT count(*)::int AS n FROM ingest.message')).rows[0].n);
  // floor: one-row INSERT transactions on one connection through the same wire server
  await db.query('CREATE TABLE IF NOT EXISTS public.bench_floor (id bigserial PRIMARY KEY, body text)');
  const f = await load(1_000, 1, () => db.query('INSERT INTO public.bench_floor (body) VALUES ($1)', ['x'.repeat(200)]));
  console.log(`floor: INSERT 1 row per transaction, one connection, same embedded database: ${f.perSecond.toFixed(0)}/s (${fmt(f)})`);
  const base = await messages();

  // 100 messages/s for 20 s
  let peak = 0;
  let atPeak = '';
  const sampler = setInterval(() => {
    const rss = rssMb(child.pid);
    if (rss > peak) [peak, atPeak] = [rss, rssBreakdown(child.pid)];
  }, 250);
  const lat = [];
  const t0 = Date.now();
  let sent = 0;
  let failed = 0;
  const inflight = [];
  for (let i = 0; i < RATE_TOTAL; i++) {
    const due = t0 + i * 10;
    if (due > Date.now()) await sleep(due - Date.now());
    const s = process.hrtime.bigint();
    inflight.push(
      post(port, 1_000_000 + i).then(
        () => (sent++, lat.push(Number(process.hrtime.bigint() - s) / 1e6)),
        () => failed++,
      ),
    );
  }
  await Promise.all(inflight);
  const stored = (await messages()) - base;
  const tEnd = Date.now();
  while ((await messages()) - base < sent) await sleep(200);
  const catchUp = Date.now() - tEnd;
  clearInterval(sampler);
  console.log(
    `100 msg/s × 10 s: ${sent} accepted, ${failed} failed; webhook ${fmt(summarize(lat))}; stored when the load stopped: ${stored}, all stored ${(catchUp / 1000).toFixed(1)} s later; RSS peak ${peak.toFixed(0)} MB (${atPeak})`,
  );

  // sustained: as fast as 16 clients send
  const before = await messages();
  const s0 = Date.now();
  const r = await load(BURST, 16, (i) => post(port, 2_000_000 + i));
  while ((await messages()) - before < BURST - r.errors) await sleep(100);
  const seconds = (Date.now() - s0) / 1000;
  console.log(`sustained: ${BURST} webhooks (16 clients): accepted ${r.perSecond.toFixed(0)}/s (${fmt(r)}), stored end to end ${((BURST - r.errors) / seconds).toFixed(0)} messages/s; RSS ${rssMb(child.pid).toFixed(0)} MB (${rssBreakdown(child.pid)})`);
  console.log(`load average at the end: ${loadNow()}`);
  await db.end();
  await stop(child);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
