'use strict';
/** Helpers shared by benchmarks: machine info, percentiles, a keep-alive HTTP client, service processes. */
const { spawn } = require('node:child_process');
const http = require('node:http');
const os = require('node:os');
const { Client } = require('pg');
const { entryOf, ROOT } = require('../scripts/services');
const { build, isStale } = require('../scripts/build');

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarize(samplesMs) {
  const s = [...samplesMs].sort((a, b) => a - b);
  const avg = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), avg };
}

function fmt(r) {
  return `n=${r.n} p50=${r.p50.toFixed(3)} ms p90=${r.p90.toFixed(3)} ms p99=${r.p99.toFixed(3)} ms avg=${r.avg.toFixed(3)} ms`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function httpRequest(port, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (body) req.write(body);
    req.end();
  });
}

async function createDatabase(name) {
  const c = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

/** Start built services as separate processes (as `npm start` does) and wait for their health. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = require('node:net').createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startServices(names, env) {
  if (isStale()) build();
  const procs = [];
  const ports = {};
  for (const name of names) {
    ports[name] = await freePort();
    // BENCH_NODE_ARGS: extra node flags for the services (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`)
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, entryOf(name)], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(ports[name]) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    procs.push(child);
  }
  for (const name of names) {
    const deadline = Date.now() + 30000;
    for (;;) {
      const r = await httpRequest(ports[name], 'GET', '/health/live').catch(() => ({ status: 0 }));
      if (r.status === 200) break;
      if (Date.now() > deadline) throw new Error(`${name} did not start`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  return {
    ports,
    pids: Object.fromEntries(names.map((n, i) => [n, procs[i].pid])),
    stop: () => Promise.all(procs.map((p) => new Promise((res) => (p.exitCode !== null ? res() : (p.once('exit', res), p.kill('SIGTERM')))))),
  };
}

/** Run `fn` with `concurrency` workers until `count` calls are done; returns per-call latencies (ms). */
async function load(count, concurrency, fn) {
  const lat = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        try {
          await fn(i);
        } catch {
          errors++;
        }
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...summarize(lat), perSecond: count / seconds, errors };
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux); NaN where unavailable. */
function cpuSeconds(pid) {
  try {
    const fields = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

module.exports = { machine, summarize, fmt, httpRequest, createDatabase, startServices, load, freePort, cpuSeconds };
