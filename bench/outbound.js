'use strict';
/**
 * Outbound sending through the whole path: HTTP POST /api/v1/messages → gateway → NATS → notifications
 * (PostgreSQL queue, shared rate limiter) → Graph API = the WhatsApp sandbox (which enforces 80/s per number
 * and the pair limit, like Meta). Measures the sustained send rate per number against the 80/s limit, the
 * queue-to-sent latency, and the rate-limit errors the sandbox answered (must be 0: self-caused).
 * Floor measured in the same run: the sandbox accepting sends posted directly (no queue, many numbers).
 *
 * The notifications process that answers the gateway runs with OUTBOUND_SENDER=false, so "drain" scenarios can
 * fill the queue first and then start a sender replica: its send rate is then the sender's own sustained rate,
 * not the rate at which this 2-core machine can push requests through HTTP. "end to end" scenarios start a
 * sender first and offer load through the gateway while it sends.
 */
const { spawn } = require('node:child_process');
const { Client } = require('pg');
const { entryOf, ROOT } = require('../scripts/services');
const { machine, fmt, httpRequest, createDatabase, startServices, load, summarize } = require('./lib');

const PER_NUMBER = Number(process.env.BENCH_N || 1200);
const LIMIT = 80;
const ADMIN = { email: 'bench@example.test', password: 'bench-password-123' };

async function json(port, method, path, body, headers = {}) {
  const r = await httpRequest(port, method, path, body ? JSON.stringify(body) : undefined, { 'content-type': 'application/json', ...headers });
  return { status: r.status, body: r.body ? JSON.parse(r.body) : null };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = require('node:net').createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function main() {
  console.log(`machine: ${machine()}`);
  const url = await createDatabase('sb_bench_outbound');
  const ns = `bench${Date.now()}`;
  const sandbox = await startServices(['sandbox'], { NODE_ENV: 'test', SANDBOX_WEBHOOKS: 'false', SANDBOX_RATE_PER_SECOND: String(LIMIT) });
  const graphUrl = `http://127.0.0.1:${sandbox.ports.sandbox}`;
  const svc = await startServices(['gateway', 'notifications'], {
    DATABASE_URL: url,
    NATS_NAMESPACE: ns,
    NODE_ENV: 'test',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    GRAPH_API_BASE_URL: graphUrl,
    OUTBOUND_RATE_PER_SECOND: String(LIMIT),
    OUTBOUND_SENDER: 'false',
  });
  const senderEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    DATABASE_URL: url,
    NATS_NAMESPACE: ns,
    NODE_ENV: 'test',
    GRAPH_API_BASE_URL: graphUrl,
    OUTBOUND_RATE_PER_SECOND: String(LIMIT),
  };
  const senders = [];
  async function startSender() {
    const port = await freePort();
    const child = spawn(process.execPath, [entryOf('notifications')], { cwd: ROOT, env: { ...senderEnv, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
    senders.push(child);
    for (let i = 0; i < 150; i++) {
      const r = await httpRequest(port, 'GET', '/health/ready').catch(() => ({ status: 0 }));
      if (r.status === 200) return child;
      await sleep(200);
    }
    throw new Error('sender replica did not start');
  }
  const stopSender = (child) =>
    new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res() : (child.once('exit', res), child.kill('SIGTERM'))));
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const gw = svc.ports.gateway;
    const sb = sandbox.ports.sandbox;
    const login = await json(gw, 'POST', '/api/v1/auth/login', ADMIN);
    const apiKey = (await json(gw, 'POST', '/api/v1/api-keys', { name: 'bench', scopes: ['messages:send'] }, { authorization: `Bearer ${login.body.accessToken}` })).body.key;
    // wait for the template sync
    for (let i = 0; i < 100; i++) {
      const r = await pg.query(`SELECT count(*)::int AS n FROM notifications.whatsapp_template`).catch(() => ({ rows: [{ n: 0 }] }));
      if (r.rows[0].n > 0) break;
      await sleep(200);
    }
    const post = (pn, to, i) =>
      json(gw, 'POST', '/api/v1/messages', { phoneNumberId: pn, to, type: 'template', template: { name: 'hello_world', language: 'en_US' } }, { 'x-api-key': apiKey, 'idempotency-key': `b-${pn}-${i}` }).then((r) => {
        if (r.status !== 202) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body)}`);
      });

    async function scenario(label, numbers, perNumber, drain) {
      const total = numbers.length * perNumber;
      const enqueue = await load(total, 16, (i) => post(numbers[i % numbers.length], String(15550000000 + Math.floor(i / numbers.length)), i));
      const replicas = [];
      if (drain) for (let r = 0; r < drain; r++) replicas.push(await startSender());
      const deadline = Date.now() + (perNumber / LIMIT) * 1000 * 3 + 120_000;
      let sent;
      for (;;) {
        sent = (await pg.query(`SELECT count(*)::int AS n FROM notifications.outbound_send WHERE phone_number_id = ANY($1) AND status IN ('sent','failed','unknown')`, [numbers])).rows[0].n;
        if (sent >= total || Date.now() > deadline) break;
        await sleep(250);
      }
      const perNumberRates = [];
      let rejected = {};
      for (const pn of numbers) {
        const s = (await json(sb, 'GET', `/sandbox/sent?phoneNumberId=${pn}`)).body;
        const t = s.acceptedAtMs;
        perNumberRates.push((t.length - 1) / ((t[t.length - 1] - t[0]) / 1000));
        rejected = s.rejected;
      }
      const q2s = (await pg.query(
        `SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM notifications.outbound_send WHERE phone_number_id = ANY($1) AND status = 'sent'`,
        [numbers],
      )).rows.map((r) => Number(r.ms));
      const failed = (await pg.query(`SELECT count(*)::int AS n FROM notifications.outbound_send WHERE phone_number_id = ANY($1) AND status <> 'sent'`, [numbers])).rows[0].n;
      const q = summarize(q2s);
      for (const r of replicas) await stopSender(r);
      console.log(`\n${label}: ${total} template sends (${perNumber} per number, ${numbers.length} number(s)), limit ${LIMIT}/s per number${drain ? `, queue filled first, then drained by ${drain} sender replica(s)` : ''}`);
      console.log(`  enqueue over HTTP (concurrency 16):   ${fmt(enqueue)} ${enqueue.perSecond.toFixed(0)}/s errors=${enqueue.errors}`);
      console.log(`  sustained send rate per number:       min ${Math.min(...perNumberRates).toFixed(1)}/s, avg ${(perNumberRates.reduce((a, b) => a + b, 0) / perNumberRates.length).toFixed(1)}/s (${((100 * Math.min(...perNumberRates)) / LIMIT).toFixed(1)} % of the limit at worst)`);
      console.log(`  aggregate send rate:                  ${perNumberRates.reduce((a, b) => a + b, 0).toFixed(1)}/s`);
      if (!drain) console.log(`  queue-to-sent:                        p50 ${q.p50.toFixed(0)} ms, p99 ${q.p99.toFixed(0)} ms`);
      console.log(`  sandbox rate errors (self-caused):    130429=${rejected['130429'] ?? 0} 131056=${rejected['131056'] ?? 0}; not sent: ${failed}`);
    }

    async function paced(label, pn, perSecond, seconds) {
      const total = perSecond * seconds;
      const start = Date.now();
      const pending = [];
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / perSecond;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        pending.push(post(pn, String(15560000000 + i), `p${i}`).catch(() => undefined));
      }
      await Promise.all(pending);
      for (let i = 0; i < 100; i++) {
        const n = (await pg.query(`SELECT count(*)::int AS n FROM notifications.outbound_send WHERE phone_number_id = $1 AND status <> 'queued' AND status <> 'sending'`, [pn])).rows[0].n;
        if (n >= total) break;
        await sleep(200);
      }
      const q2s = (await pg.query(`SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM notifications.outbound_send WHERE phone_number_id = $1 AND status = 'sent'`, [pn])).rows.map((r) => Number(r.ms));
      const q = summarize(q2s);
      const s = (await json(sb, 'GET', `/sandbox/sent?phoneNumberId=${pn}`)).body;
      console.log(`\n${label}: offered ${perSecond}/s for ${seconds} s to one number (below the ${LIMIT}/s limit)`);
      console.log(`  queue-to-sent:                        p50 ${q.p50.toFixed(1)} ms, p90 ${q.p90.toFixed(1)} ms, p99 ${q.p99.toFixed(1)} ms (n=${q.n})`);
      console.log(`  sandbox rate errors (self-caused):    130429=${s.rejected['130429'] ?? 0} 131056=${s.rejected['131056'] ?? 0}`);
    }

    await scenario('drain, one number', ['400000000000001'], PER_NUMBER, 2);
    await scenario('drain, ten numbers', Array.from({ length: 10 }, (_, i) => String(400000000000100 + i)), Math.round(PER_NUMBER / 4), 2);
    const live = await startSender();
    await scenario('end to end, one number (sender running while the gateway enqueues)', ['400000000000300'], Math.round(PER_NUMBER / 2));
    await paced('end to end, one number, paced', '400000000000200', 70, 10);
    await stopSender(live);

    // floor: the sandbox alone, sends posted directly (one number per request, so its limits never bite)
    const body = (i) => JSON.stringify({ messaging_product: 'whatsapp', to: String(15570000000 + i), type: 'template', template: { name: 'hello_world', language: { code: 'en_US' } } });
    const floor = await load(3000, 16, (i) =>
      httpRequest(sb, 'POST', `/v23.0/${500000000000000 + i}/messages`, body(i), { 'content-type': 'application/json', authorization: 'Bearer sandbox-token' }).then((r) => {
        if (r.status !== 200) throw new Error(String(r.status));
      }),
    );
    console.log(`\nfloor: POST straight to the sandbox (concurrency 16): ${fmt(floor)} ${floor.perSecond.toFixed(0)}/s errors=${floor.errors}`);
  } finally {
    await pg.end();
    await Promise.all(senders.map((c) => stopSender(c)));
    await svc.stop();
    await sandbox.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
