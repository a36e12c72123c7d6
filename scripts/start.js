#!/usr/bin/env node
'use strict';
/**
 * `npm start`:
 *  - neither DATABASE_URL nor NATS_URL set → single-machine mode: build if needed (apps/standalone and the web client
 *    only), then run every service, the embedded PostgreSQL (PGlite, data in DATA_DIR, default ./data), the
 *    in-process bus, the sandbox and the web client in one process (apps/standalone, started with the memory
 *    settings of STANDALONE_NODE_ARGS).
 *  - `npm run start:services` (--services) or DATABASE_URL/NATS_URL set → split mode: make sure the database
 *    exists, build if needed, start every service as its own process against PostgreSQL and NATS, wait until the
 *    gateway is ready, and stop them all on Ctrl-C. A bad DATABASE_URL fails here; it never falls back.
 */
const { spawn } = require('node:child_process');
const http = require('node:http');
const { SERVICES, entryOf, ROOT, STANDALONE_NODE_ARGS, standaloneEnv } = require('./services');
const { build, isStale } = require('./build');

const env = { ...process.env };
// set but empty (e.g. `DATABASE_URL: ${DATABASE_URL}` in a compose file with the variable missing) is a mistake,
// never a request for the single-machine mode or for the local defaults
const blank = ['DATABASE_URL', 'NATS_URL'].filter((k) => k in env && !env[k].trim());
if (blank.length) {
  process.stderr.write(`npm start failed: ${blank.join(' and ')} set but empty; unset it for the single-machine mode, or give the URL\n`);
  process.exit(1);
}
const SINGLE = !process.argv.includes('--services') && !env.DATABASE_URL && !env.NATS_URL;
if (!SINGLE) {
  env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/switchboard';
  env.NATS_URL ||= 'nats://127.0.0.1:4222';
}
if (env.NODE_ENV !== 'production') {
  // local development defaults, matching the sandbox; production must set its own secrets
  env.WHATSAPP_APP_SECRET ||= 'sandbox-app-secret';
  env.WHATSAPP_VERIFY_TOKEN ||= 'sandbox-verify-token';
  env.WHATSAPP_ACCESS_TOKEN ||= 'sandbox-token'; // the sandbox's Graph token: ingest downloads inbound media with it
  env.SEED_DEMO ||= 'true'; // demo organisation (Sales/Support/After-sales); SEED_DEMO=false to skip
}
if (SERVICES.some((s) => s.sandbox)) {
  // the WhatsApp sandbox is the Graph API, and its signed webhooks go to this gateway
  env.GRAPH_API_BASE_URL ||= `http://127.0.0.1:${env.SANDBOX_PORT || 3005}`;
  env.SANDBOX_WEBHOOK_URL ||= `http://127.0.0.1:${env.PORT || 3000}/webhooks/whatsapp`;
}
const GATEWAY_PORT = Number(env.PORT || 3000);

if (process.env.npm_lifecycle_event) {
  // `kill <pid of npm>` (SIGTERM): npm hands the signal to its `sh -c`, which exits without passing it on, and this
  // process would run on orphaned; when the parent goes away, stop as on SIGTERM (no effect on Ctrl-C)
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.kill(process.pid, 'SIGTERM'), 1000).unref();
}

async function ensureDatabase(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  if (!u || !['postgres:', 'postgresql:'].includes(u.protocol) || !(u.hostname || u.searchParams.has('host'))) {
    // the value itself is never printed (it may hold a password)
    throw new Error('DATABASE_URL is not a PostgreSQL URL; expected postgres://user[:password]@host[:port]/database');
  }
  const db = decodeURIComponent(u.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const { Client } = require('pg');
  const c = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at DATABASE_URL (${u.hostname}:${u.port || 5432}): ${err.message}`);
  }
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (!rowCount) {
      await c.query(`CREATE DATABASE "${db.replace(/"/g, '""')}"`);
      process.stdout.write(`Created database ${db}\n`);
    }
  } finally {
    await c.end();
  }
}

function getJson(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(body) });
        } catch {
          resolve({ status: res.statusCode, body });
        }
      });
    });
    req.on('error', () => resolve({ status: 0 }));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Single-machine mode: apps/standalone in a process of its own, because its memory settings (STANDALONE_NODE_ARGS,
 * MALLOC_ARENA_MAX) only take effect at process start. It prints the banner and handles Ctrl-C itself; this one
 * passes SIGTERM/SIGHUP on, exits with its code, and if this one is killed the IPC channel closes and it stops.
 */
function runStandalone() {
  const child = spawn(process.execPath, [...STANDALONE_NODE_ARGS, entryOf('standalone')], {
    env: standaloneEnv(env),
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  // Ctrl-C reaches both processes; the standalone ignores a repeated signal while it stops
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  process.on('SIGHUP', () => child.kill('SIGTERM'));
  child.on('error', (err) => {
    process.stderr.write(`npm start failed: cannot start the single-machine process (${err.message})\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function main() {
  if (SINGLE) {
    if (isStale('standalone')) build('standalone'); // only what this mode runs: one compile, not one per service
    runStandalone();
    return;
  }
  await ensureDatabase(env.DATABASE_URL); // before building: a wrong DATABASE_URL fails at once
  if (isStale()) build();

  const children = new Map();
  let stopping = false;
  const stopAll = (code) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping Switchboard…\n');
    for (const child of children.values()) child.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const child of children.values()) child.kill('SIGKILL');
      process.exit(code || 1);
    }, 15000);
    const check = setInterval(() => {
      if ([...children.values()].every((c) => c.exitCode !== null || c.signalCode !== null)) {
        clearInterval(check);
        clearTimeout(deadline);
        process.exit(code);
      }
    }, 100);
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  for (const s of SERVICES) {
    const port = s.name === 'gateway' ? GATEWAY_PORT : Number(env[`${s.name.toUpperCase()}_PORT`] || s.port);
    const child = spawn(process.execPath, [entryOf(s.name)], {
      cwd: ROOT,
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', (err) => {
      process.stderr.write(`cannot start ${s.name} (${err.message}); stopping the others\n`);
      stopAll(1);
    });
    child.on('exit', (code, signal) => {
      if (!stopping) {
        process.stderr.write(`${s.name} exited (${signal || code}); stopping the others\n`);
        stopAll(code || 1);
      }
    });
    children.set(s.name, child);
  }

  const started = Date.now();
  for (;;) {
    const r = await getJson(GATEWAY_PORT, '/health/ready');
    if (r.status === 200) break;
    if (stopping) return;
    if (Date.now() - started > 60000) {
      process.stderr.write(`Gateway not ready after 60 s: ${JSON.stringify(r.body)}\n`);
      stopAll(1);
      return;
    }
    await new Promise((res) => setTimeout(res, 300));
  }
  process.stdout.write(
    [
      '',
      '──────────────────────────────────────────────────────────────',
      ` Switchboard is ready (${((Date.now() - started) / 1000).toFixed(1)} s): http://localhost:${GATEWAY_PORT}`,
      `   services: ${SERVICES.map((s) => s.name).join(', ')} (one process each)`,
      `   health:   http://localhost:${GATEWAY_PORT}/health/ready`,
      `   status:   http://localhost:${GATEWAY_PORT}/api/v1/system/services`,
      ...(SERVICES.some((s) => s.sandbox) ? [`   SANDBOX:  http://localhost:${env.SANDBOX_PORT || 3005}/sandbox  (simulated WhatsApp Cloud API, no Meta account; SANDBOX=off to skip)`] : []),
      ...(env.SEED_DEMO === 'true'
        ? [
            `   DEMO logins (password ${env.DEMO_PASSWORD || 'switchboard-demo'}): manager@demo.switchboard.test,`,
            '              ana@, ben@, chloe@, dan@demo.switchboard.test (agents)   POST /api/v1/auth/login',
          ]
        : []),
      '   Ctrl-C stops everything.',
      '──────────────────────────────────────────────────────────────',
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  process.stderr.write(`npm start failed: ${err.message}\n`);
  process.exit(1);
});
