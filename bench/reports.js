'use strict';
/**
 * `npm run bench -- reports`: the manager view at scale, end to end through the gateway's HTTP API.
 * - dashboard: GET /api/v1/dashboard with 200 agents and 100,000 unresolved conversations (10 teams), as admin (every
 *   team) and as a manager (one team): p50/p95 over sequential requests;
 * - reports: each report over 90 days of 1,000,000 conversations (episodes, SLA clocks, 2 messages each);
 * - CSV: the raw rows of the first-response report (1,000,000 rows) streamed as CSV, with the RSS of the gateway and
 *   sla processes sampled during the download (flat = bounded by one page, not by the row count).
 * Floors in the same run: GET /health/live on the gateway, the bare SQL of the dashboard's table scan and of the
 * first-response report, and a bare scan of the rows the CSV export reads.
 * The reporting tables are seeded with SQL (the projection's own tables), not by replaying 10 M events.
 * Scale with BENCH_CONVERSATIONS (default 1,000,000) and BENCH_OPEN (default 100,000).
 */
const { randomUUID } = require('node:crypto');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const { Client } = require('pg');
const { machine, createDatabase, httpRequest, summarize } = require('./lib');
const { entryOf, ROOT } = require('../scripts/services');

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS || 1_000_000);
const OPEN = Number(process.env.BENCH_OPEN || 100_000);
const AGENTS = 200;
const TEAMS = 10;
const REQUESTS = Number(process.env.BENCH_REQUESTS || 60);
const PASSWORD = 'bench-password-123';

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function start(name, env) {
  const port = 4100 + Math.floor(Math.random() * 800);
  const child = spawn(process.execPath, [entryOf(name)], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode})`);
    const r = await httpRequest(port, 'GET', '/health/live').catch(() => ({ status: 0 }));
    if (r.status === 200) break;
    if (Date.now() > deadline) throw new Error(`${name} did not start`);
    await new Promise((res) => setTimeout(res, 200));
  }
  return { port, pid: child.pid, stop: () => new Promise((res) => (child.exitCode !== null ? res() : (child.once('exit', res), child.kill('SIGTERM')))) };
}

async function timed(n, fn) {
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const s = summarize(lat);
  const sorted = [...lat].sort((a, b) => a - b);
  return { ...s, p95: sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] };
}
const ms = (x) => `${x.toFixed(1)} ms`;

async function main() {
  console.log(`machine: ${machine()}`);
  console.log(`scale: ${CONVERSATIONS} conversations over 90 days, ${OPEN} unresolved, ${AGENTS} agents in ${TEAMS} teams`);
  for (const s of ['sla', 'routing', 'gateway'])
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', s], { cwd: ROOT, stdio: 'inherit' });
  const url = await createDatabase('sb_bench_reports');
  const env = { DATABASE_URL: url, NATS_NAMESPACE: `bench${Date.now()}`, NODE_ENV: 'test', DATABASE_POOL_SIZE: '10', ADMIN_EMAIL: 'admin@bench.switchboard.test', ADMIN_PASSWORD: PASSWORD, SLA_TIMER_POLL_MS: '0' };
  const procs = {};
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    procs.sla = await start('sla', env);
    procs.routing = await start('routing', env);
    procs.gateway = await start('gateway', env);
    const port = procs.gateway.port;
    const login = async (email) => JSON.parse((await httpRequest(port, 'POST', '/api/v1/auth/login', JSON.stringify({ email, password: PASSWORD }), { 'content-type': 'application/json' })).body).accessToken;
    const api = async (method, path, token, body) => {
      const r = await httpRequest(port, method, path, body === undefined ? undefined : JSON.stringify(body), { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) });
      if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.body.slice(0, 300)}`);
      return JSON.parse(r.body);
    };
    const admin = await login('admin@bench.switchboard.test');
    const teams = [];
    for (let t = 0; t < TEAMS; t++) teams.push((await api('POST', '/api/v1/teams', admin, { name: `Bench team ${t}` })).id);
    await api('POST', '/api/v1/users', admin, { email: 'manager@bench.switchboard.test', name: 'Manager', password: PASSWORD, role: 'manager', teamIds: [teams[0]] });
    const manager = await login('manager@bench.switchboard.test');

    // ---- seed (SQL; ids derived from the row number) ----
    const t0 = Date.now();
    const agents = Array.from({ length: AGENTS }, () => randomUUID());
    await pg.query(`INSERT INTO routing.agent (user_id, name, role, status, max_open) SELECT a, 'agent ' || i, 'agent', (ARRAY['online','away','offline'])[1 + i % 3], 20
      FROM unnest($1::uuid[]) WITH ORDINALITY AS x(a, i)`, [agents]);
    await pg.query(`INSERT INTO routing.agent_team (team_id, user_id) SELECT ($2::uuid[])[1 + (i % ${TEAMS})], a FROM unnest($1::uuid[]) WITH ORDINALITY AS x(a, i)`, [agents, teams]);
    // unresolved conversations: the dashboard's rows (routing's work state, sla's conversation + clocks, the projection)
    await pg.query(`CREATE TEMP TABLE live AS SELECT g, md5('live' || g)::uuid AS id, ($1::uuid[])[1 + g % ${TEAMS}] AS team,
        CASE WHEN g % 10 = 0 THEN NULL ELSE ($2::uuid[])[1 + (g % ${AGENTS})] END AS owner,
        (ARRAY['open','open','open','pending','snoozed'])[1 + g % 5] AS status, now() - (g % 4320) * interval '1 minute' AS opened
      FROM generate_series(1, ${OPEN}) g`, [teams, agents]);
    await pg.query(`INSERT INTO routing.conversation_work (conversation_id, phone_number_id, contact_id, team_id, owner_id, status, snooze_until, opened_at, activity_at, queued_at)
      SELECT id, '1555000' || (g % ${TEAMS}), md5('c' || g)::uuid, team, owner, status, CASE WHEN status = 'snoozed' THEN now() + interval '1 day' END, opened, opened,
        CASE WHEN owner IS NULL THEN opened END FROM live`);
    // the trigger on sla.clock keeps the pre-aggregates row by row; the seed writes them in bulk instead
    await pg.query(`ALTER TABLE sla.clock DISABLE TRIGGER rpt_clock_changed`);
    await pg.query(`INSERT INTO sla.rpt_work (conversation_id, team_id, owner_id, status, version, opened_at, queued_since, awaiting_since, last_inbound_at, sla_state)
      SELECT id, team, owner, status, 1, opened, CASE WHEN owner IS NULL AND status = 'open' THEN opened END, CASE WHEN g % 3 = 0 THEN opened END, opened,
        (ARRAY['ok','warning','breached'])[1 + g % 3] FROM live`);
    await pg.query(`INSERT INTO sla.conversation (conversation_id, phone_number_id, team_id, owner_id, status) SELECT id, '1555000' || (g % ${TEAMS}), team, owner, status FROM live`);
    await pg.query(`INSERT INTO sla.clock (conversation_id, target, started_at, target_ms, warn_at_percent, due_at, state)
      SELECT id, 'firstResponse', opened, 600000, 80, opened + interval '10 minutes', (ARRAY['ok','warning','breached'])[1 + g % 3] FROM live`);
    // history: 1,000,000 conversations over 90 days, each one episode, an SLA clock decided, 2 messages
    await pg.query(`CREATE TEMP TABLE hist AS SELECT g, md5('h' || g)::uuid AS id, ($1::uuid[])[1 + g % ${TEAMS}] AS team, ($2::uuid[])[1 + (g % ${AGENTS})] AS agent,
        now() - interval '90 days' + (g::float8 / ${CONVERSATIONS}) * interval '89 days' AS opened, (g::bigint * 7919) % 3600000 AS frt
      FROM generate_series(1, ${CONVERSATIONS}) g`, [teams, agents]);
    await pg.query(`INSERT INTO sla.rpt_episode (conversation_id, opened_at, phone_number_id, team_id, first_response_at, responder_id, frt_ms, frt_business_ms,
        resolved_at, resolver_id, resolution_ms, resolution_business_ms)
      SELECT id, opened, '1555000' || (g % ${TEAMS}), team, opened + frt * interval '1 millisecond', agent::text, frt, frt / 3,
        opened + (frt * 5) * interval '1 millisecond', agent::text, frt * 5, frt * 2 FROM hist`);
    await pg.query(`INSERT INTO sla.rpt_message (event_id, conversation_id, phone_number_id, team_id, direction, sender_id, at)
      SELECT md5('mi' || g)::uuid, id, '1555000' || (g % ${TEAMS}), team, 'in', NULL, opened FROM hist
      UNION ALL SELECT md5('mo' || g)::uuid, id, '1555000' || (g % ${TEAMS}), team, 'out', agent::text, opened + frt * interval '1 millisecond' FROM hist`);
    await pg.query(`INSERT INTO sla.conversation (conversation_id, phone_number_id, team_id, owner_id, status) SELECT id, '1555000' || (g % ${TEAMS}), team, agent, 'resolved' FROM hist`);
    await pg.query(`INSERT INTO sla.rpt_state (event_id, conversation_id, version, team_id, owner_id, status, at) SELECT md5('s' || g)::uuid, id, 1, team, agent, 'open', opened FROM hist`);
    await pg.query(`INSERT INTO sla.clock (conversation_id, target, started_at, target_ms, warn_at_percent, due_at, state, met_at, breached_at, closed_at)
      SELECT id, 'firstResponse', opened, 1800000, 80, opened + interval '30 minutes', CASE WHEN frt > 1800000 THEN 'breached' ELSE 'met' END,
        opened + frt * interval '1 millisecond', CASE WHEN frt > 1800000 THEN opened + interval '30 minutes' END, opened + frt * interval '1 millisecond' FROM hist`);
    await pg.query(`INSERT INTO sla.rpt_clock (clock_id, conversation_id, target, started_at, due_at, target_ms, team_id, agent_id, phone_number_id, decided_at, met_at, breached_at)
      SELECT k.id, k.conversation_id, k.target, k.started_at, k.due_at, k.target_ms, h.team, h.agent, '1555000' || (h.g % ${TEAMS}), least(k.breached_at, k.met_at), k.met_at, k.breached_at
      FROM sla.clock k JOIN hist h ON h.id = k.conversation_id`);
    await pg.query(`ALTER TABLE sla.clock ENABLE TRIGGER rpt_clock_changed`);
    // agent availability: 4 changes a day for 90 days
    await pg.query(`INSERT INTO sla.rpt_agent_status (event_id, user_id, status, at)
      SELECT gen_random_uuid(), a, (ARRAY['online','away','online','offline'])[1 + k % 4], now() - interval '90 days' + k * interval '6 hours'
      FROM unnest($1::uuid[]) a, generate_series(0, 359) k`, [agents]);
    // as autovacuum leaves bulk-loaded tables (visibility map set, so index-only scans need no heap visits)
    await pg.query(`VACUUM ANALYZE`);
    const seedSeconds = (Date.now() - t0) / 1000;
    console.log(`seeded in ${seedSeconds.toFixed(0)} s`);

    // ---- dashboard ----
    const dashAdmin = await timed(REQUESTS, () => api('GET', '/api/v1/dashboard', admin));
    const dashManager = await timed(REQUESTS, () => api('GET', `/api/v1/dashboard?teamId=${teams[0]}`, manager));
    const liveFloor = await timed(REQUESTS, () => httpRequest(port, 'GET', '/health/live'));
    const scanFloor = await timed(10, () => pg.query(`SELECT team_id, count(*) FROM sla.rpt_work WHERE status <> 'resolved' GROUP BY team_id`));
    const sample = await api('GET', '/api/v1/dashboard', admin);
    const open = sample.teams.reduce((n, t) => n + t.byStatus.open + t.byStatus.pending + t.byStatus.snoozed, 0);
    console.log(`dashboard admin (${sample.teams.length} teams, ${sample.agents.length} agents, ${open} unresolved): p50 ${ms(dashAdmin.p50)} p95 ${ms(dashAdmin.p95)}`);
    console.log(`dashboard manager (1 team): p50 ${ms(dashManager.p50)} p95 ${ms(dashManager.p95)}`);
    console.log(`floor: GET /health/live p50 ${ms(liveFloor.p50)} p95 ${ms(liveFloor.p95)}; bare SQL group-by over rpt_work p50 ${ms(scanFloor.p50)}`);
    // the figures (read from the live counters) against the dashboard's definitions applied row by row at the same instant
    const ageCase = `CASE WHEN $1::timestamptz - opened_at < interval '1 hour' THEN 'lt1h' WHEN $1::timestamptz - opened_at < interval '4 hours' THEN '1to4h'
      WHEN $1::timestamptz - opened_at < interval '24 hours' THEN '4to24h' WHEN $1::timestamptz - opened_at < interval '72 hours' THEN '1to3d' ELSE 'gt3d' END`;
    const recount = (await pg.query(`SELECT team_id, status, ${ageCase} AS age, sla_state, owner_id IS NULL AS unowned,
        (last_inbound_at + interval '24 hours' > $1 AND last_inbound_at + interval '24 hours' <= $1::timestamptz + interval '2 hours') AS closing, count(*)::int AS n
      FROM sla.rpt_work WHERE status <> 'resolved' GROUP BY 1, 2, 3, 4, 5, 6`, [sample.at])).rows;
    const mismatches = sample.teams.filter((t) => {
      const mine = recount.filter((r) => r.team_id === t.teamId);
      const sum = (f) => mine.filter(f).reduce((a, r) => a + r.n, 0);
      const want = {
        byStatus: { open: sum((r) => r.status === 'open'), pending: sum((r) => r.status === 'pending'), snoozed: sum((r) => r.status === 'snoozed') },
        age: Object.fromEntries(['open', 'pending', 'snoozed'].map((st) => [st, Object.fromEntries(Object.keys(t.age.open).map((b) => [b, sum((r) => r.status === st && r.age === b)]))])),
        queue: sum((r) => r.status === 'open' && r.unowned),
        sla: { atRisk: sum((r) => r.sla_state === 'warning'), breached: sum((r) => r.sla_state === 'breached') },
        windows: sum((r) => r.closing),
      };
      const got = { byStatus: t.byStatus, age: t.age, queue: t.queue.length, sla: t.sla, windows: t.windowsClosingIn2h };
      return JSON.stringify(got) !== JSON.stringify(want);
    });
    console.log(`dashboard figures = row-by-row recount of rpt_work: ${mismatches.length ? `NO (${mismatches.length} teams differ)` : `yes (${sample.teams.length} teams)`}`);

    // ---- reports over 90 days ----
    const from = new Date(Date.now() - 90 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&tz=Europe%2FBerlin`;
    for (const kind of ['first-response', 'resolution', 'sla', 'volume', 'agents']) {
      let body;
      const r = await timed(3, async () => (body = await api('GET', `/api/v1/reports/${kind}?${q}`, admin)));
      const count = body.wallClock?.count ?? body.targets?.[0]?.decided ?? (body.messagesIn !== undefined ? body.messagesIn + body.messagesOut : body.agents?.length);
      console.log(`report ${kind}: p50 ${ms(r.p50)} max ${ms(Math.max(r.p50, r.p90, r.p99))} (count ${count})`);
    }
    const reportFloor = await timed(3, () =>
      pg.query(`SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY frt_ms), percentile_cont(0.9) WITHIN GROUP (ORDER BY frt_ms), avg(frt_ms)
        FROM sla.rpt_episode WHERE first_response_at >= $1 AND first_response_at < $2`, [from, to]),
    );
    console.log(`floor: bare SQL of the wall-clock FRT figures p50 ${ms(reportFloor.p50)}`);

    // ---- CSV export of 1,000,000 rows ----
    const rss = { gateway: [], sla: [] };
    const sampler = setInterval(() => {
      rss.gateway.push(rssMb(procs.gateway.pid));
      rss.sla.push(rssMb(procs.sla.pid));
    }, 250);
    const before = { gateway: rssMb(procs.gateway.pid), sla: rssMb(procs.sla.pid) };
    const c0 = Date.now();
    const { rows, bytes } = await new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/api/v1/reports/first-response/raw?${q}&format=csv`, headers: { authorization: `Bearer ${admin}` } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`csv → ${res.statusCode}`));
        let n = 0;
        let b = 0;
        res.on('data', (c) => {
          b += c.length;
          for (let i = 0; i < c.length; i++) if (c[i] === 10) n++;
        });
        res.on('end', () => resolve({ rows: n - 1, bytes: b }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    clearInterval(sampler);
    const csvSeconds = (Date.now() - c0) / 1000;
    const peak = (xs) => Math.max(...xs.filter((x) => !Number.isNaN(x)));
    console.log(`csv: ${rows} rows, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${csvSeconds.toFixed(1)} s (${Math.round(rows / csvSeconds)} rows/s)`);
    console.log(`csv RSS gateway: before ${before.gateway.toFixed(0)} MiB, peak ${peak(rss.gateway).toFixed(0)} MiB; sla: before ${before.sla.toFixed(0)} MiB, peak ${peak(rss.sla).toFixed(0)} MiB`);
    const f0 = Date.now();
    await pg.query(`SELECT count(*), sum(length(conversation_id::text || coalesce(team_id::text, '') || responder_id)) FROM sla.rpt_episode WHERE first_response_at >= $1 AND first_response_at < $2`, [from, to]);
    console.log(`floor: bare SQL scan of the same rows ${((Date.now() - f0) / 1000).toFixed(2)} s`);
  } finally {
    await pg.end();
    for (const p of Object.values(procs)) await p.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
