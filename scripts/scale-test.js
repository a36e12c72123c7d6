#!/usr/bin/env node
'use strict';
/**
 * `npm run scale-test`: the multi-replica proof (issue 11). Three replicas of every service, each its own process on
 * its own port, against one PostgreSQL database and one NATS namespace of their own; the WhatsApp sandbox plays the
 * Graph API and the customers; a small round-robin proxy plays the Kubernetes Service/Ingress in front of the
 * gateways (it retries another gateway only when a connection is refused, like ingress-nginx).
 *
 * Mixed load: customers write through the sandbox (signed webhooks), three agents race to claim each new
 * conversation, the winner replies twice through the API (Idempotency-Key, retried on 5xx/connection errors),
 * reminders (SLA timers) are set a few seconds ahead, and an SLA policy with a 1-minute first response makes
 * clocks warn and breach. Meanwhile every service is restarted replica by replica (a new one started, the old one
 * taken out of rotation and sent SIGTERM: it must exit 0 within 10 s), then one replica of each is killed -9.
 *
 * Then, from the database and the sandbox's own log of what it was sent: every accepted webhook is one message
 * (and every receipt was applied, every conversation reached routing); every accepted reply reached the sandbox
 * exactly once; no conversation had two claims win and the audit trail never changes a conversation twice from
 * one version; every due timer fired exactly once. It prints the counts and exits 1 on any loss or duplicate.
 * Not part of `npm test` (15 processes on 2 cores); results in docs/RELIABILITY.md.
 *
 * Settings: SCALE_CUSTOMERS (default 40), SCALE_SETTLE_S (default 20), SCALE_KEEP=1 (keep the database),
 * TEST_DATABASE_URL / TEST_NATS_URL as the tests.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
/** sla's SLA_LATE_CLOCK_GRACE_MS here: a late clock timer waits this long for in-time replies still in the backlog. */
const LATE_CLOCK_GRACE_MS = 5_000;
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { connect, JSONCodec } = require('nats');
const { ROOT } = require('./services');
const { freePort } = require('../bench/lib');

const REPLICAS = 3;
const SERVICES = ['gateway', 'ingest', 'routing', 'sla', 'notifications'];
const CUSTOMERS = Number(process.env.SCALE_CUSTOMERS || 40);
const SETTLE_S = Number(process.env.SCALE_SETTLE_S || 20);
const ADMIN_PG = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.TEST_NATS_URL || 'nats://127.0.0.1:4222';
const PHONE_NUMBER_ID = '106540352242922'; // the sandbox's default number; the demo maps it to the Sales team
const DEMO_PASSWORD = 'switchboard-demo';
const AGENTS = ['ana@demo.switchboard.test', 'ben@demo.switchboard.test', 'manager@demo.switchboard.test'];
const RUN = `${Date.now().toString(36)}${crypto.randomBytes(2).toString('hex')}`;
const LOGS = path.join(os.tmpdir(), `switchboard-scale-${RUN}`);
const BUILD = path.join(LOGS, 'build');
const NODE_PATH = path.join(ROOT, 'node_modules'); // the private build resolves its packages here
const ALIAS = path.join(BUILD, 'alias.js');
const entry = (s) => path.join(BUILD, 'apps', s, 'src', 'main.js');
const nodeArgs = (s, ...rest) => ['-r', ALIAS, entry(s), ...rest];

/**
 * Compiles apps/ and libs/ into a private directory of this run (the project's compiler options, as `nest build`
 * emits them, without its type check), so builds other people start in this checkout never pull the code away
 * mid-run. `@app/<lib>` resolves through a one-line preload, as the tsconfig paths do.
 */
function privateBuild() {
  const ts = require('typescript');
  const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2023, esModuleInterop: true, emitDecoratorMetadata: true, experimentalDecorators: true };
  const walk = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const roots = [...SERVICES, 'sandbox'].map((s) => path.join('apps', s, 'src')).concat(fs.readdirSync(path.join(ROOT, 'libs')).map((l) => path.join('libs', l, 'src')));
  for (const file of roots.flatMap((r) => walk(path.join(ROOT, r)))) {
    if (!file.endsWith('.ts') || /\.(spec|db-spec|e2e-spec)\.ts$/.test(file)) continue;
    const out = path.join(BUILD, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file }).outputText);
  }
  fs.writeFileSync(
    ALIAS,
    `const M = require('node:module'); const r = M._resolveFilename; const libs = ${JSON.stringify(path.join(BUILD, 'libs'))};
M._resolveFilename = function (q, ...a) { const m = /^@app\\/([a-z]+)(\\/.*)?$/.exec(q); return r.call(this, m ? libs + '/' + m[1] + '/src' + (m[2] || '') : q, ...a); };\n`,
  );
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** One HTTP call; `{ status: 0, error }` when no answer came (connection refused, reset, timeout). */
function call(port, method, urlPath, body, headers = {}, timeoutMs = 15_000) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, agent: false, timeout: timeoutMs, headers: { ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}), ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode, body: json, text });
        });
        res.on('error', (error) => resolve({ status: 0, error }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, error }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (data) req.write(data);
    req.end();
  });
}

// ------------------------------------------------------------------------------------------------ processes

let replicaSeq = 0;
const rss = {}; // service → { idle: [kB], peak: kB }

class Replica {
  constructor(service, env) {
    this.service = service;
    this.env = env;
    this.name = `${service}-${++replicaSeq}`;
  }

  /** Starts it and waits for readiness; a process that exits while starting is started again (as the kubelet does). */
  async start(port, tries = 3) {
    try {
      return await this.startOnce(port);
    } catch (err) {
      if (tries <= 1 || this.child.exitCode === null) throw err;
      log(`${this.name} exited while starting (exit ${this.child.exitCode}); starting it again`);
      return this.start(port, tries - 1);
    }
  }

  async startOnce(port) {
    this.port = port ?? (await freePort());
    const out = fs.openSync(path.join(LOGS, `${this.name}.log`), 'a');
    this.child = spawn(process.execPath, nodeArgs(this.service), {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_PATH, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
    const deadline = Date.now() + 180_000; // this 2-core machine may be shared with test runs
    for (;;) {
      const r = await call(this.port, 'GET', '/health/ready?peers=false', undefined, {}, 2_000);
      if (r.status === 200) return this;
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`${this.name} did not become ready (see ${LOGS}/${this.name}.log)`);
      await sleep(150);
    }
  }

  rssKb() {
    try {
      const s = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /** SIGTERM: how it ended and how long it took. */
  async terminate() {
    const t0 = Date.now();
    this.child.kill('SIGTERM');
    const end = await Promise.race([this.exited, sleep(15_000).then(() => ({ code: 'hung', signal: null }))]);
    if (end.code === 'hung') this.child.kill('SIGKILL');
    return { ...end, ms: Date.now() - t0 };
  }

  async kill9() {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

// ------------------------------------------------------------------------------------------------ proxy

/** Round-robin over the gateways in rotation; another gateway only when the connection is refused. */
function startProxy(rotation) {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const targets = [...rotation];
      const attempt = (tries) => {
        if (!targets.length || tries >= targets.length) {
          res.writeHead(502).end('{"message":"no gateway answered"}');
          return;
        }
        const g = targets[(next++ + tries) % targets.length];
        const up = http.request(
          { host: '127.0.0.1', port: g.port, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent: false, timeout: 20_000 },
          (r) => {
            res.writeHead(r.statusCode, r.headers);
            r.pipe(res);
          },
        );
        up.on('error', (err) => {
          if (err.code === 'ECONNREFUSED' && !res.headersSent) return attempt(tries + 1);
          if (!res.headersSent) res.writeHead(502).end(JSON.stringify({ message: `gateway: ${err.message}` }));
          else res.destroy();
        });
        up.on('timeout', () => up.destroy(new Error('upstream timeout')));
        up.end(body);
      };
      attempt(0);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port })));
}

// ------------------------------------------------------------------------------------------------ main

async function main() {
  fs.mkdirSync(LOGS, { recursive: true });
  privateBuild();
  const dbName = `sb_scale_${RUN}`;
  const admin = new Client({ connectionString: ADMIN_PG });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = Object.assign(new URL(ADMIN_PG), { pathname: `/${dbName}` }).toString();
  const namespace = `scale${RUN}`;
  const sandboxPort = await freePort();
  const rotation = new Set();
  const proxy = await startProxy(rotation);
  const graph = `http://127.0.0.1:${sandboxPort}`;
  log(`scale test ${RUN}: database ${dbName}, NATS namespace ${namespace}, logs in ${LOGS}`);

  const common = {
    NODE_ENV: 'development',
    DATABASE_URL: dbUrl,
    DATABASE_POOL_SIZE: '3', // 15 processes on one PostgreSQL (max_connections 100)
    NATS_URL,
    NATS_NAMESPACE: namespace,
    MIGRATIONS_RUN: 'false', // migrated once below, as the Kubernetes init container does
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: '10000',
    // a late clock timer waits this long for in-time replies still in the backlog (sla); the checks allow for it
    SLA_LATE_CLOCK_GRACE_MS: String(LATE_CLOCK_GRACE_MS),
  };
  const envOf = {
    gateway: { ...common, SEED_DEMO: 'true', DEMO_PASSWORD, WHATSAPP_APP_SECRET: 'sandbox-app-secret', WHATSAPP_VERIFY_TOKEN: 'scale', GRAPH_API_BASE_URL: graph },
    ingest: { ...common, GRAPH_API_BASE_URL: graph, MEDIA_DIR: path.join(LOGS, 'media') },
    routing: { ...common },
    sla: { ...common },
    notifications: { ...common, GRAPH_API_BASE_URL: graph, GRAPH_API_TIMEOUT_MS: '5000', OUTBOUND_LEASE_MS: '8000', OUTBOUND_PAIR_INTERVAL_MS: '1000' },
  };

  const all = []; // every replica ever started (for clean-up)
  const live = Object.fromEntries(SERVICES.map((s) => [s, []]));
  const startReplica = async (s) => {
    const r = new Replica(s, envOf[s]);
    all.push(r);
    await r.start();
    live[s].push(r);
    if (s === 'gateway') rotation.add(r);
    return r;
  };
  const shutdowns = [];
  let sandbox;
  let nc;
  try {
    for (const s of SERVICES) {
      const r = spawn(process.execPath, nodeArgs(s, '--migrate'), { cwd: ROOT, env: { PATH: process.env.PATH, NODE_PATH, ...envOf[s] }, stdio: 'inherit' });
      const code = await new Promise((res) => r.once('exit', res));
      if (code !== 0) throw new Error(`${s} --migrate exited ${code}`);
    }
    sandbox = new Replica('sandbox', {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${proxy.port}/webhooks/whatsapp`,
      SANDBOX_PAIR_INTERVAL_MS: '1000',
    });
    all.push(sandbox);
    await sandbox.start(sandboxPort);
    await startReplica('gateway'); // the first one seeds the demo organisation
    for (const s of SERVICES) while (live[s].length < REPLICAS) await startReplica(s);
    log(`${SERVICES.length * REPLICAS} replicas ready: ${SERVICES.map((s) => `${s} :${live[s].map((r) => r.port).join(',')}`).join('  ')}`);
    await sleep(3_000);
    for (const s of SERVICES) rss[s] = { idle: live[s].map((r) => r.rssKb()), peak: 0 };
    const rssTimer = setInterval(() => {
      for (const s of SERVICES) for (const r of live[s]) rss[s].peak = Math.max(rss[s].peak, r.rssKb());
    }, 1_000);

    const pg = await retryingClient(dbUrl);
    nc = await connect({ servers: new URL(NATS_URL).host });
    const jc = JSONCodec();
    const natsRequest = async (subject, body) => {
      const m = await nc.request(`${namespace}.${subject}`, jc.encode(body), { timeout: 15_000 });
      const reply = jc.decode(m.data);
      if (!reply.ok) throw new Error(`${subject}: ${reply.error.code} ${reply.error.message}`);
      return reply.data;
    };

    // people, their tokens, the Sales team; an SLA policy with a 1-minute first response (clocks warn and breach)
    const agents = [];
    for (const email of AGENTS) {
      const r = await call(proxy.port, 'POST', '/api/v1/auth/login', { email, password: DEMO_PASSWORD });
      if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${r.text}`);
      const [u] = (await pg.query(`SELECT id, name, role FROM gateway.app_user WHERE email = $1`, [email])).rows;
      const teams = (await pg.query(`SELECT team_id FROM gateway.team_member WHERE user_id = $1`, [u.id])).rows.map((t) => t.team_id);
      agents.push({ email, token: r.body.accessToken, actor: { type: 'user', id: u.id, name: u.name, role: u.role, teamIds: teams } });
    }
    const [sales] = (await pg.query(`SELECT id FROM gateway.team WHERE name LIKE '%Sales%' ORDER BY name LIMIT 1`)).rows;
    const manager = agents[2];
    await natsRequest('sla.create-policy.v1', {
      actor: { ...manager.actor, role: 'admin' },
      policy: { name: 'scale test', teamId: sales.id, firstResponseMinutes: 1, nextResponseMinutes: 1, warnAtPercent: 50, onBreach: 'none' },
    });

    // ---------------------------------------------------------------- load
    const state = { running: true, webhooks: [], refused: 0, races: [], replies: [], replyRejected: 0, reminders: [], claimErrors: 0 };
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => String(447700900000 + i));
    const customerLoad = (async () => {
      let n = 0;
      const workers = Array.from({ length: 4 }, async () => {
        while (state.running) {
          const waId = customers[n++ % customers.length];
          const r = await call(sandboxPort, 'POST', `/sandbox/customers/${waId}/messages`, { text: `scale ${RUN} message ${n}`, phoneNumberId: PHONE_NUMBER_ID });
          if (r.status === 200 && r.body.delivered) state.webhooks.push({ waId, waMessageId: r.body.waMessageId });
          else state.refused++;
          await sleep(200);
        }
      });
      await Promise.all(workers);
    })();

    const api = (agent, method, p, body, headers = {}) => call(proxy.port, method, p, body, { authorization: `Bearer ${agent.token}`, ...headers });
    /** A reply, retried with the same Idempotency-Key while the answer is 5xx or missing (as a client would). */
    const reply = async (agent, conversationId, waId) => {
      const key = crypto.randomUUID();
      const text = `scale ${RUN} reply ${key}`;
      for (let attempt = 1; attempt <= 8; attempt++) {
        const r = await api(agent, 'POST', `/api/v1/conversations/${conversationId}/messages`, { text }, { 'idempotency-key': key });
        if (r.status === 202) return state.replies.push({ key, text, conversationId, waId });
        if (r.status !== 0 && r.status < 500) {
          state.replyRejected++;
          return log(`reply refused: ${r.status} ${r.text.slice(0, 200)}`);
        }
        await sleep(300 * attempt);
      }
      state.replyRejected++;
    };
    const agentLoad = (async () => {
      const seen = new Set();
      while (state.running) {
        const list = await api(manager, 'GET', '/api/v1/conversations?view=unassigned&limit=20');
        const item = list.status === 200 ? list.body.items.find((c) => !seen.has(c.id)) : undefined;
        if (!item) {
          await sleep(300);
          continue;
        }
        seen.add(item.id);
        // three people claim the same conversation at the same moment with the version they saw
        const results = await Promise.all(agents.map((a) => api(a, 'POST', `/api/v1/conversations/${item.id}/claim`, { version: item.version })));
        const winners = results.map((r, i) => (r.status === 200 ? i : -1)).filter((i) => i >= 0);
        state.claimErrors += results.filter((r) => r.status === 0 || r.status >= 500).length;
        state.races.push({ conversationId: item.id, winners: winners.map((i) => agents[i].email), statuses: results.map((r) => r.status) });
        if (winners.length !== 1) continue;
        const owner = agents[winners[0]];
        const waId = item.contact?.waId;
        void (async () => {
          if (state.races.length % 3 === 0) {
            // "remind me" on every third conversation, which gets no reply (a person's reply cancels its reminders)
            const at = new Date(Date.now() + 5_000 + Math.floor(Math.random() * 25_000));
            await natsRequest('sla.create-reminder.v1', { actor: owner.actor, conversationId: item.id, at: at.toISOString(), note: `scale ${RUN}` })
              .then((rem) => state.reminders.push({ id: rem.id, at }))
              .catch((err) => log(`reminder not created (sla did not answer in 15 s; its timer is still checked): ${err.message}`));
            return;
          }
          await reply(owner, item.id, waId);
          await sleep(1_500);
          await reply(owner, item.id, waId);
        })();
      }
    })();

    // ---------------------------------------------------------------- rolling restart, then kill -9
    await sleep(8_000);
    for (const s of SERVICES) {
      for (const old of [...live[s]]) {
        await startReplica(s); // maxSurge 1: the new one is ready before the old one goes
        rotation.delete(old); // the endpoint is removed…
        live[s].splice(live[s].indexOf(old), 1);
        await sleep(1_000); // …and the preStop pause passes
        const end = await old.terminate();
        shutdowns.push({ replica: old.name, ...end });
        log(`rolling: ${old.name} SIGTERM → exit ${end.code}${end.signal ? ` (${end.signal})` : ''} in ${end.ms} ms`);
      }
    }
    for (const s of SERVICES) {
      const victim = live[s][0];
      rotation.delete(victim); // (the proxy would find out from refused connections anyway)
      live[s].splice(0, 1);
      await victim.kill9();
      log(`kill -9: ${victim.name}`);
      await startReplica(s);
    }
    log(`restarts done; load continues ${SETTLE_S} s`);
    await sleep(SETTLE_S * 1_000);
    state.running = false;
    await Promise.all([customerLoad, agentLoad]);
    const loadEnd = Date.now();
    clearInterval(rssTimer);
    log(`load stopped: ${state.webhooks.length} webhooks accepted, ${state.races.length} claim races, ${state.replies.length} replies accepted`);

    // ---------------------------------------------------------------- settle: everything relayed, consumed, sent and due
    const lastReminder = Math.max(0, ...state.reminders.map((r) => r.at.getTime()));
    const outboxes = (await pg.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'`)).rows.map((r) => r.table_schema);
    const jsm = await nc.jetstreamManager();
    const settled = async () => {
      for (const s of outboxes) if ((await pg.query(`SELECT count(*)::int AS n FROM ${s}.outbox WHERE published_at IS NULL`)).rows[0].n) return `${s} outbox`;
      const q = await pg.query(`SELECT count(*)::int AS n FROM notifications.outbound_send WHERE status IN ('queued', 'sending')`);
      if (q.rows[0].n) return `${q.rows[0].n} sends queued`;
      for await (const si of jsm.streams.list()) {
        if (!si.config.name.startsWith(`${namespace}_`)) continue;
        for await (const ci of jsm.consumers.list(si.config.name)) {
          if (ci.config.durable_name && (ci.num_pending || ci.num_ack_pending)) return `consumer ${ci.name}`;
        }
      }
      if (Date.now() < lastReminder + 3_000) return 'reminders not due yet';
      const t = await pg.query(`SELECT count(*)::int AS n FROM sla.timer WHERE status = 'pending' AND due_at < now() - interval '3 seconds'`);
      if (t.rows[0].n) return `${t.rows[0].n} due timers`;
      return null;
    };
    const settleDeadline = Date.now() + 180_000;
    let waiting;
    while ((waiting = await settled()) && Date.now() < settleDeadline) await sleep(1_000);
    log(waiting ? `NOT settled after 180 s: ${waiting}` : `settled ${((Date.now() - loadEnd) / 1000).toFixed(0)} s after the load`);

    const report = await check({ pg, sandboxPort, state, shutdowns, customers });
    report.settled = !waiting;
    report.ok = report.ok && !waiting;
    printReport(report);
    await pg.end();
    process.exitCode = report.ok ? 0 : 1;
  } finally {
    rotation.clear();
    await Promise.all(all.map((r) => (r.child && r.child.exitCode === null && r.child.signalCode === null ? r.terminate() : null)));
    proxy.server.close();
    if (process.exitCode === 0 && !process.env.SCALE_KEEP) {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
      const jsm = await nc?.jetstreamManager().catch(() => undefined);
      for (const s of ['WEBHOOKS', 'INBOX_EVENTS', 'DLQ']) await jsm?.streams.delete(`${namespace}_${s}`).catch(() => undefined);
    }
    await nc?.close().catch(() => undefined);
    await admin.end();
  }
}

/**
 * The script's own connection; its queries wait out a PostgreSQL that is full ("too many clients": other test runs
 * on this machine share it), as the services' own retries do.
 */
async function retryingClient(url) {
  const busy = (err) => err && (err.code === '53300' || /too many clients|timeout exceeded/i.test(err.message));
  const again = async (fn) => {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (!busy(err) || i >= 60) throw err;
        await sleep(1_000);
      }
    }
  };
  const c = await again(async () => {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect(); // a client whose connect failed cannot be reused: a new one per try
    return client;
  });
  const query = c.query.bind(c);
  c.query = (...args) => again(() => query(...args));
  return c;
}

// ------------------------------------------------------------------------------------------------ checks

async function check({ pg, sandboxPort, state, shutdowns, customers }) {
  const q = async (sql, params) => (await pg.query(sql, params)).rows;
  const r = { ok: true, lines: [] };
  const line = (name, value, bad) => {
    r.lines.push(`${bad ? 'FAIL' : ' ok '}  ${name}: ${value}`);
    if (bad) r.ok = false;
  };

  // graceful shutdown
  const badExits = shutdowns.filter((s) => s.code !== 0 || s.ms > 10_000);
  line('SIGTERM shutdowns exiting 0 within 10 s', `${shutdowns.length - badExits.length}/${shutdowns.length} (slowest ${Math.max(...shutdowns.map((s) => s.ms))} ms)`, badExits.length > 0);
  for (const s of badExits) r.lines.push(`        ${s.replica}: exit ${s.code} ${s.signal ?? ''} after ${s.ms} ms`);

  // inbound: every webhook the gateway accepted is one message
  const ids = state.webhooks.map((w) => w.waMessageId);
  const [m] = await q(
    `SELECT count(DISTINCT wa_message_id)::int AS found, count(*)::int AS rows FROM ingest.message WHERE wa_message_id = ANY($1)`,
    [ids],
  );
  line('accepted customer webhooks', `${ids.length} (refused or failed after retries: ${state.refused})`, ids.length === 0);
  line('  … lost (no message)', ids.length - m.found, ids.length - m.found !== 0);
  line('  … duplicated (more than one message)', m.rows - m.found, m.rows - m.found !== 0);
  const [rc] = await q(
    `SELECT count(*)::int AS receipts,
            count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ingest.processed_event p WHERE p.consumer = 'ingest-webhooks' AND p.event_id = r.id::text))::int AS unapplied
     FROM gateway.webhook_receipt r`,
  );
  line('webhook receipts stored by the gateways (statuses included)', rc.receipts, false);
  line('  … never applied by ingest', rc.unapplied, rc.unapplied !== 0);
  const [cv] = await q(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM routing.conversation_work w WHERE w.conversation_id = c.id))::int AS missing FROM ingest.conversation c`,
  );
  line('conversations', cv.n, false);
  line('  … unknown to routing', cv.missing, cv.missing !== 0);

  // claims and ownership
  const doubleWins = state.races.filter((x) => x.winners.length > 1);
  const noWinner = state.races.filter((x) => x.winners.length === 0);
  const odd = {};
  for (const st of state.races.flatMap((x) => x.statuses)) if (st !== 200 && st !== 409) odd[st || 'no answer'] = (odd[st || 'no answer'] ?? 0) + 1;
  line('claim races (3 people, same version, same moment)', `${state.races.length} (no answered winner: ${noWinner.length}; answers other than 200/409: ${JSON.stringify(odd)})`, state.races.length === 0);
  line('  … with two winners', doubleWins.length, doubleWins.length !== 0);
  const audit = await q(`SELECT conversation_id, action, before, after FROM routing.audit_entry WHERE before ? 'version' AND after ? 'version' ORDER BY conversation_id, seq`);
  const fromVersion = new Map();
  let forked = 0;
  let claimOfOwned = 0;
  for (const a of audit) {
    if (!(a.after.version > a.before.version)) continue;
    const k = `${a.conversation_id}:${a.before.version}`;
    if (fromVersion.has(k)) forked++;
    fromVersion.set(k, a.action);
    if (a.action === 'conversation.claimed' && a.before.ownerId) claimOfOwned++;
  }
  const [claimed] = await q(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE c > 1)::int AS twice FROM (
       SELECT count(*) AS c FROM routing.audit_entry WHERE action = 'conversation.claimed' GROUP BY conversation_id) x`,
  );
  const raceWins = state.races.filter((x) => x.winners.length === 1).length;
  // a claim may succeed while its answer is cut off (kill -9 of the gateway holding it): recorded ≥ won
  line('audit: conversations claimed / claim races with an answered winner', `${claimed.n} / ${raceWins}`, claimed.n < raceWins);
  line('  … a conversation claimed twice', claimed.twice, claimed.twice !== 0);
  line('  … two changes from one version (double assignment)', forked, forked !== 0);
  line('  … a claim of an owned conversation', claimOfOwned, claimOfOwned !== 0);

  // outbound: every accepted reply reached the sandbox exactly once
  // the sandbox's own log of accepted sends (the last 500 per query: asked per customer and once unfiltered)
  const sent = new Map(); // wamid the sandbox gave → text
  for (const q of [...customers.map((waId) => `?to=${waId}`), '']) {
    const s = await call(sandboxPort, 'GET', `/sandbox/sent${q}`);
    for (const msg of s.body?.messages ?? []) if (msg.body?.text?.body) sent.set(msg.waMessageId, msg.body.text.body);
  }
  const sentTexts = new Map();
  for (const t of sent.values()) sentTexts.set(t, (sentTexts.get(t) ?? 0) + 1);
  const rows = await q(`SELECT idempotency_key, status FROM notifications.outbound_send WHERE idempotency_key LIKE 'reply:%'`);
  const statusOf = new Map(rows.map((x) => [x.idempotency_key.slice(x.idempotency_key.lastIndexOf(':') + 1), x.status]));
  let once = 0;
  let twice = 0;
  let lost = 0;
  let unknown = 0;
  for (const rep of state.replies) {
    const n = sentTexts.get(rep.text) ?? 0;
    if (n === 1) once++;
    else if (n > 1) twice++;
    else if (statusOf.get(rep.key) === 'unknown' || statusOf.get(rep.key) === 'failed') unknown++;
    else lost++;
  }
  line('replies accepted (202)', `${state.replies.length} (refused: ${state.replyRejected})`, state.replies.length === 0);
  line('  … reached the sandbox exactly once', once, false);
  line('  … reached it more than once', twice, twice !== 0);
  line('  … never reached it and not reported failed (lost)', lost, lost !== 0);
  line('  … reported failed/unknown (a call cut by kill -9: never re-sent, by design)', unknown, false);

  // timers
  const [tm] = await q(
    `SELECT count(*) FILTER (WHERE status = 'fired')::int AS fired,
            count(*) FILTER (WHERE status = 'pending' AND due_at < now() - interval '3 seconds')::int AS overdue,
            count(*) FILTER (WHERE status = 'pending' AND due_at >= now() - interval '3 seconds')::int AS future,
            count(DISTINCT fired_by) FILTER (WHERE status = 'fired')::int AS replicas
     FROM sla.timer`,
  );
  line('SLA timers fired', `${tm.fired} by ${tm.replicas} replicas (not due yet: ${tm.future})`, false);
  line('  … due but not fired (lost)', tm.overdue, tm.overdue !== 0);
  const reminderIds = state.reminders.map((x) => x.id);
  const [rm] = await q(
    `SELECT count(*) FILTER (WHERE state = 'fired')::int AS fired, count(*) FILTER (WHERE state = 'cancelled')::int AS cancelled,
            count(*) FILTER (WHERE state = 'pending')::int AS pending FROM sla.reminder WHERE id = ANY($1::uuid[])`,
    [reminderIds],
  );
  const notices = await q(
    `SELECT payload->'data'->>'reminderId' AS id, count(*)::int AS n FROM sla.outbox
     WHERE subject = 'inbox.notice.requested.v1' AND payload->'data' ? 'reminderId' GROUP BY 1`,
  );
  const noticeCount = new Map(notices.map((x) => [x.id, x.n]));
  const fired = new Set((await q(`SELECT id::text FROM sla.reminder WHERE id = ANY($1::uuid[]) AND state = 'fired'`, [reminderIds])).map((x) => x.id));
  const dupReminders = reminderIds.filter((id) => (noticeCount.get(id) ?? 0) > 1).length;
  const silentReminders = [...fired].filter((id) => (noticeCount.get(id) ?? 0) === 0).length;
  line('reminders set / fired / cancelled by a later reply', `${reminderIds.length} / ${rm.fired} / ${rm.cancelled}`, rm.fired === 0);
  line('  … due but still pending (lost)', rm.pending, rm.pending !== 0);
  line('  … fired more than once (notices)', dupReminders, dupReminders !== 0);
  line('  … fired without a notice', silentReminders, silentReminders !== 0);
  const esc = await q(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE c > 1)::int AS dup FROM (
       SELECT count(*) AS c FROM sla.outbox WHERE subject = 'inbox.sla.escalated.v1'
       GROUP BY payload->>'conversationId', payload->>'target', payload->>'level', payload->>'dueAt') x`,
  );
  const [clk] = await q(
    `SELECT count(*) FILTER (WHERE breached_at IS NOT NULL)::int AS breached, count(*) FILTER (WHERE warned_at IS NOT NULL)::int AS warned,
            count(*) FILTER (WHERE closed_at IS NULL AND met_at IS NULL AND due_at < now() - make_interval(secs => $1) AND breached_at IS NULL)::int AS missed
     FROM sla.clock`,
    [LATE_CLOCK_GRACE_MS / 1000 + 3],
  );
  line('SLA clocks warned / breached', `${clk.warned} / ${clk.breached} (escalations: ${esc[0].n})`, false);
  line('  … an escalation recorded twice', esc[0].dup, esc[0].dup !== 0);
  line('  … overdue clocks never breached', clk.missed, clk.missed !== 0);
  return r;
}

function printReport(report) {
  const mb = (kb) => `${Math.round(kb / 1024)} MiB`;
  process.stdout.write('\nmemory (RSS per replica; idle = 3 s after start, peak = highest sample under this load)\n');
  for (const [s, v] of Object.entries(rss)) process.stdout.write(`  ${s.padEnd(14)} idle ${v.idle.map(mb).join(' / ')}   peak ${mb(v.peak)}\n`);
  process.stdout.write(`\nscale test: ${REPLICAS} replicas × ${SERVICES.length} services, ${CUSTOMERS} customers\n${report.lines.join('\n')}\n`);
  process.stdout.write(`\n${report.ok ? 'PASS: no loss, no duplicate' : 'FAIL: see the lines marked FAIL'}\n`);
}

main().catch((err) => {
  process.stderr.write(`scale test failed to run: ${err.stack ?? err}\n`);
  process.exit(2);
});
