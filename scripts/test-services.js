#!/usr/bin/env node
/*
 * `npm test` runs on the machine's PostgreSQL and NATS (JetStream): the tests prove the product on the real parts,
 * not on mocks. On a machine where they are installed but stopped (a fresh VM, a laptop after reboot), this starts
 * them the way .ci/run does, so the README's second command passes without a manual step. It never starts anything
 * when TEST_DATABASE_URL / TEST_NATS_URL point elsewhere, and it fails with the exact command to run when a service
 * is down and cannot be started from here (not installed, no permission).
 */
const net = require('node:net');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

const pgUrl = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const natsUrl = new URL(process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222');
const LOCAL = new Set(['127.0.0.1', 'localhost', '::1']);

function reachable(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(host, port, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await reachable(host, port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

async function ensurePostgres() {
  const host = pgUrl.hostname;
  const port = pgUrl.port || '5432';
  if (await reachable(host, port)) return;
  const hint = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
  if (!LOCAL.has(host) || port !== '5432') {
    throw new Error(`PostgreSQL at ${host}:${port} does not answer (TEST_DATABASE_URL); start it and retry`);
  }
  if (!which('pg_ctlcluster') || !fs.existsSync('/etc/postgresql')) {
    throw new Error('npm test needs PostgreSQL on 127.0.0.1:5432 (not installed here): apt-get install postgresql');
  }
  const version = fs.readdirSync('/etc/postgresql').sort().pop();
  console.log(`test services: starting PostgreSQL ${version} (it was not running)`);
  const r = run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
  if (!(await waitFor(host, port, 30))) {
    throw new Error(`PostgreSQL did not start (${r.out || 'no output'}); run: ${hint}`);
  }
}

async function ensureNats() {
  const host = natsUrl.hostname;
  const port = natsUrl.port || '4222';
  if (await reachable(host, port)) return;
  const hint =
    'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server';
  if (!LOCAL.has(host) || port !== '4222') {
    throw new Error(`NATS at ${host}:${port} does not answer (TEST_NATS_URL); start it with JetStream and retry`);
  }
  const server = fs.existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : which('nats-server');
  if (!server) throw new Error('npm test needs NATS with JetStream on 127.0.0.1:4222 (not installed here): apt-get install nats-server');
  console.log('test services: starting NATS with JetStream (it was not running)');
  const store = '/var/lib/nats-server';
  let r;
  if (which('start-stop-daemon')) {
    fs.mkdirSync(store, { recursive: true });
    r = run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', server, '--', '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', store]);
  } else {
    r = { ok: false, out: 'start-stop-daemon not found' };
  }
  if (!(await waitFor(host, port, 30))) throw new Error(`NATS did not start (${r.out || 'no output'}); run: ${hint}`);
}

(async () => {
  try {
    await ensurePostgres();
    await ensureNats();
  } catch (err) {
    console.error(`test services: ${err.message}`);
    process.exit(1);
  }
})();
