'use strict';
/**
 * Routing's side of the inbox API at scale: 1,000,000 conversation work items (10 teams, 200 agents), then
 *   - the conversation list (routing.list-work.v1 over NATS, as the gateway calls it) for each view with filters,
 *   - a claim under contention (20 agents claim the same conversation at once, 50 rounds),
 * each beside the bare SQL of the same query on one connection, measured in the same run.
 * (Messages live in ingest and the HTTP hop is measured by gateway-roundtrip; this isolates routing.)
 */
const { randomUUID } = require('node:crypto');
const { connect, JSONCodec } = require('nats');
const { Client } = require('pg');
const { spawn } = require('node:child_process');
const { machine, createDatabase, httpRequest } = require('./lib');
const { entryOf, ROOT } = require('../scripts/services');
const { build, isStale } = require('../scripts/build');

/** Routing as its own process (as npm start runs it), on a free port of its own. */
async function startRouting(env) {
  if (isStale()) build();
  const port = 3950 + Math.floor(Math.random() * 40);
  const child = spawn(process.execPath, [entryOf('routing')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`routing exited (${child.exitCode})`);
    const r = await httpRequest(port, 'GET', '/health/ready').catch(() => ({ status: 0 }));
    if (r.status === 200) break;
    if (Date.now() > deadline) throw new Error('routing did not become ready');
    await new Promise((res) => setTimeout(res, 200));
  }
  return { stop: () => new Promise((res) => (child.exitCode !== null ? res() : (child.once('exit', res), child.kill('SIGTERM')))) };
}

const ROWS = Number(process.env.BENCH_ROWS || 1_000_000);
const N = Number(process.env.BENCH_N || 300);
const codec = JSONCodec();

const pct = (s, p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
function line(name, r) {
  return `| ${name} | ${r.n} | ${r.p50.toFixed(2)} ms | ${r.p95.toFixed(2)} ms | ${r.p99.toFixed(2)} ms |`;
}
async function timed(count, concurrency, fn) {
  const lat = [];
  let next = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        try {
          await fn(i);
        } catch (e) {
          errors++;
          if (errors === 1) console.error(String(e?.message ?? e));
        }
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const s = lat.sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), errors };
}

async function main() {
  console.log(`machine: ${machine()}`);
  const url = await createDatabase('sb_bench_inbox_work');
  const ns = `bench${Date.now()}`;
  const svc = await startRouting({ DATABASE_URL: url, NATS_NAMESPACE: ns, NODE_ENV: 'test', DATABASE_POOL_SIZE: '10' });
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const nc = await connect({ servers: '127.0.0.1:4222' });
  try {
    const teams = Array.from({ length: 10 }, () => randomUUID());
    const agents = Array.from({ length: 200 }, (_, i) => ({ id: randomUUID(), team: teams[i % 10] }));
    let t0 = Date.now();
    await pg.query(`CREATE TEMP TABLE bench_team AS SELECT ord, t::uuid AS id FROM unnest($1::text[]) WITH ORDINALITY AS x(t, ord)`, [teams]);
    await pg.query(`CREATE TEMP TABLE bench_agent AS SELECT ord, a::uuid AS id FROM unnest($1::text[]) WITH ORDINALITY AS x(a, ord)`, [agents.map((a) => a.id)]);
    // agent i is in team i % 10. Per team: 60 % owned by one of its agents, 40 % unassigned;
    // 70 % resolved, 20 % open, 10 % pending; 5 % labelled vip; one conversation every ~8 s over 90 days
    await pg.query(
      `INSERT INTO routing.conversation_work (conversation_id, phone_number_id, contact_id, team_id, owner_id, status, labels, version,
         opened_at, activity_at, last_message_at, resolved_at)
       SELECT gen_random_uuid(), '1555000' || (g % 5), gen_random_uuid(), t.id, a.id,
              CASE WHEN (g / 1000) % 10 < 7 THEN 'resolved' WHEN (g / 1000) % 10 < 9 THEN 'open' ELSE 'pending' END,
              CASE WHEN (g / 7) % 20 = 0 THEN ARRAY['vip'] ELSE '{}'::text[] END, 1 + g % 7,
              now() - make_interval(secs => g * 7.7), now() - make_interval(secs => g * 7.7), now() - make_interval(secs => g * 7.7),
              CASE WHEN (g / 1000) % 10 < 7 THEN now() - make_interval(secs => g * 7.7) END
       FROM generate_series(1, $1) g
       JOIN bench_team t ON t.ord = 1 + g % 10
       LEFT JOIN bench_agent a ON (g / 100) % 10 < 6 AND a.ord = 1 + g % 10 + 10 * ((g / 10) % 20)`,
      [ROWS],
    );
    await pg.query(`VACUUM ANALYZE routing.conversation_work`);
    const seedS = (Date.now() - t0) / 1000;
    const [{ n }] = (await pg.query(`SELECT count(*)::int AS n FROM routing.conversation_work`)).rows;
    console.log(`seeded ${n} work items in ${seedS.toFixed(1)} s`);

    const agentTeam = teams[0];
    const agent = agents.find((a) => a.team === agentTeam);
    const actor = { type: 'user', id: agent.id, name: 'bench', role: 'agent', teamIds: [agentTeam] };
    const admin = { type: 'user', id: randomUUID(), name: 'admin', role: 'admin', teamIds: [] };
    const subject = `${ns}.routing.list-work.v1`;
    const ask = async (body) => {
      const m = await nc.request(subject, codec.encode(body), { timeout: 5000 });
      const r = codec.decode(m.data);
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      return r.data;
    };
    const COLS = `conversation_id, phone_number_id, contact_id, team_id, owner_id, status, snooze_until, priority, labels,
      version, opened_at, last_message_at, resolved_at, updated_at, activity_at::text AS activity_key`;
    // the same SQL routing runs (WorkRepository.list): one ordered, limited branch per visible scope, merged
    const ORDER = 'ORDER BY activity_at DESC, conversation_id DESC';
    const branch = (scope, extra) => `(SELECT ${COLS}, activity_at AS sort_at FROM routing.conversation_work WHERE ${[scope, ...extra].join(' AND ')} ${ORDER} LIMIT 51)`;
    const agentScopes = [`team_id = $1::uuid`, `team_id IS NULL`, `owner_id = $2::uuid AND team_id IS NOT NULL AND team_id <> ALL(ARRAY[$1]::uuid[])`];
    const union = (scopes, extra) => `SELECT * FROM (${scopes.map((sc) => branch(sc, extra)).join(' UNION ALL ')}) x ORDER BY sort_at DESC, conversation_id DESC LIMIT 51`;
    const cases = [
      ['agent, view=all', { actor, view: 'all', limit: 50 }, union(agentScopes, []), [agentTeam, agent.id]],
      ['agent, view=mine', { actor, view: 'mine', limit: 50 }, branch('TRUE', ['owner_id = $1::uuid']), [agent.id]],
      ['agent, view=unassigned, status=open', { actor, view: 'unassigned', status: 'open', limit: 50 }, union(agentScopes, [`status = 'open'`, 'owner_id IS NULL']), [agentTeam, agent.id]],
      ['agent, view=team, status=pending', { actor, view: 'team', status: 'pending', limit: 50 }, branch('team_id = $1::uuid', [`status = 'pending'`]), [agentTeam]],
      ['agent, view=all, label=vip', { actor, view: 'all', label: 'vip', limit: 50 }, union(agentScopes, [`labels @> ARRAY['vip']::text[]`]), [agentTeam, agent.id]],
      ['admin, view=all, status=open', { actor: admin, view: 'all', status: 'open', limit: 50 }, branch('TRUE', [`status = 'open'`]), []],
    ];
    const rows = [];
    for (const [name, body, sql, params] of cases) {
      for (let i = 0; i < 20; i++) await ask(body); // warm-up
      const page = await ask(body);
      const deep = page.nextCursor ? { ...body, cursor: page.nextCursor } : body;
      rows.push(line(`${name} — routing over NATS`, await timed(N, 1, () => ask(body))));
      rows.push(line(`${name}, page 2 (cursor) — routing over NATS`, await timed(N, 1, () => ask(deep))));
      rows.push(line(`${name} — bare SQL`, await timed(N, 1, () => pg.query(sql, params))));
    }

    // claim under contention: 20 agents of the team at once on a fresh unowned conversation, 50 rounds
    const claimers = agents.filter((a) => a.team === agentTeam).slice(0, 20);
    const claimSubject = `${ns}.routing.claim.v1`;
    const claimLat = [];
    let winners = 0;
    for (let round = 0; round < 50; round++) {
      const id = randomUUID();
      await pg.query(
        `INSERT INTO routing.conversation_work (conversation_id, phone_number_id, contact_id, team_id, opened_at, activity_at) VALUES ($1, '15550000', gen_random_uuid(), $2, now(), now())`,
        [id, agentTeam],
      );
      await Promise.all(
        claimers.map(async (a) => {
          const t = process.hrtime.bigint();
          const m = await nc.request(claimSubject, codec.encode({ actor: { type: 'user', id: a.id, name: 'a', role: 'agent', teamIds: [agentTeam] }, conversationId: id, version: 1 }), { timeout: 5000 });
          claimLat.push(Number(process.hrtime.bigint() - t) / 1e6);
          if (codec.decode(m.data).ok) winners++;
        }),
      );
    }
    claimLat.sort((a, b) => a - b);
    rows.push(line('claim, 20 at once (every claimer’s answer) — routing over NATS', { n: claimLat.length, p50: pct(claimLat, 50), p95: pct(claimLat, 95), p99: pct(claimLat, 99) }));
    console.log(`claims: ${winners} winners in 50 rounds (expected 50)`);
    const floorIds = [];
    for (let i = 0; i < N; i++) floorIds.push(randomUUID());
    await pg.query(
      `INSERT INTO routing.conversation_work (conversation_id, phone_number_id, contact_id, team_id, opened_at, activity_at) SELECT x, '15550000', gen_random_uuid(), $2, now(), now() FROM unnest($1::uuid[]) x`,
      [floorIds, agentTeam],
    );
    rows.push(
      line(
        'floor: bare conditional UPDATE … WHERE owner_id IS NULL AND version = 1',
        await timed(N, 1, (i) => pg.query(`UPDATE routing.conversation_work SET owner_id = $2, version = version + 1 WHERE conversation_id = $1 AND owner_id IS NULL AND version = 1`, [floorIds[i], agent.id])),
      ),
    );
    console.log('| query | n | p50 | p95 | p99 |\n|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await nc.close();
    await pg.end();
    await svc.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
