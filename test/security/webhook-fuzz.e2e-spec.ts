import fc from 'fast-check';
import { waitFor } from '@app/testing';
import { normalizeWebhook } from '../../apps/ingest/src/normalize/webhook.normalizer';
import { webhookFixtures } from '../support/fixtures';
import { Stack } from '../support/stack';

/**
 * Property-based fuzzing of the webhook path (gateway → receipt → JetStream → ingest), on real PostgreSQL and
 * NATS. Payloads are the real fixtures with 1–4 mutations (types changed, fields missing, null, huge, hostile
 * unicode, deep nesting, numbers as strings and back), always with a valid signature. Properties:
 *   - the gateway never answers ≥ 500 and the normaliser never throws (fast-check shrinks a failure to a minimal case);
 *   - a payload refused whole says why in the answer, and one refused with a 4xx other than 413 (a broken envelope:
 *     its signature is valid) is dead-lettered by the gateway in gateway.webhook_rejected with the same reason
 *     (413: too big to keep, only counted and logged);
 *   - every accepted receipt is finished by ingest: applied, each invalid item in ingest.rejected_item with a reason,
 *     and nothing left failing (an item failing for "infrastructure" reasons would be retried ~15 min, then
 *     dead-lettered: for bad input that is a bug).
 * FUZZ_RUNS sets the number of payloads (npm test: 300; npm run test:security: 10,000); FUZZ_SEED replays a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const FIXTURES = webhookFixtures().map((f) => JSON.parse(f.raw) as unknown);

const OPS = ['delete', 'null', 'type', 'huge', 'unicode', 'deep', 'numstr', 'strnum', 'empty'] as const;
type Op = (typeof OPS)[number];
const NASTY = ['\u0000', '\ud800', 'a\udc00b', '\u202e\u2066evil', '\ufeff', '🙂'.repeat(500), 'Z̸̢͓̈a̶l̵g̷o', '<script>alert(1)</script>', "'; DROP TABLE x; --", '%s%n%x', '\\', '"', '\n\r\t', '👨‍👩‍👧‍👦', '\u0085\u2028\u2029', ''];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every [parent, key] pair under the root, depth-first; the envelope's own keys are left alone when asked. */
function slots(root: Json, keepEnvelope: boolean): [Json[] | Record<string, Json>, string | number][] {
  const out: [Json[] | Record<string, Json>, string | number][] = [];
  const walk = (node: Json, depth: number) => {
    if (node === null || typeof node !== 'object' || depth > 40) return;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    for (const k of keys) {
      if (!(keepEnvelope && depth === 0 && (k === 'object' || k === 'entry'))) out.push([node, k]);
      walk((node as any)[k], depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

function mutate(value: Json, op: Op, pick: number): Json | undefined {
  switch (op) {
    case 'delete':
      return undefined;
    case 'null':
      return null;
    case 'type': {
      const others: Json[] = [42, 'text', true, [], {}, [value], { value }, -1.5e308];
      return others[pick % others.length];
    }
    case 'huge':
      return typeof value === 'number' ? Number.MAX_SAFE_INTEGER * 1e300 : 'x'.repeat(1000 + (pick % 60_000));
    case 'unicode':
      return (typeof value === 'string' ? value : '') + NASTY[pick % NASTY.length];
    case 'deep': {
      let v: Json = value;
      for (let i = 0; i < 10 + (pick % 400); i++) v = i % 2 ? [v] : { a: v }; // up to 4 of these: ~1,600 levels
      return v;
    }
    case 'numstr':
      return typeof value === 'number' ? String(value) : typeof value === 'string' ? `${pick}${pick}1234567890123456789012` : value;
    case 'strnum':
      return typeof value === 'string' ? [0, -1, 1.5, 1e21, pick][pick % 5] : value;
    case 'empty':
      return Array.isArray(value) ? [] : typeof value === 'object' && value !== null ? {} : '';
  }
}

const payloadArb = fc.record({
  fixture: fc.nat({ max: FIXTURES.length - 1 }),
  keepEnvelope: fc.boolean(),
  mutations: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom(...OPS), pick: fc.nat() }), { minLength: 1, maxLength: 4 }),
});

type Payload = typeof payloadArb extends fc.Arbitrary<infer T> ? T : never;

function build(p: Payload): string {
  const root = structuredClone(FIXTURES[p.fixture]) as Json;
  for (const m of p.mutations) {
    const all = slots(root, p.keepEnvelope);
    if (!all.length) break;
    const [parent, key] = all[m.at % all.length];
    const next = mutate((parent as any)[key], m.op, m.pick);
    if (next === undefined) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else (parent as any)[key] = next;
  }
  return JSON.stringify(root);
}

describe(`security: webhook fuzzing, ${RUNS} mutated fixtures with valid signatures (gateway + ingest)`, () => {
  let s: Stack;
  beforeAll(async () => {
    s = await Stack.start({ INGEST_WEBHOOK_CONCURRENCY: '4' });
  }, 60_000);
  afterAll(() => s?.stop());

  it('never answers ≥ 500, never throws, dead-letters every whole refusal, and finishes every accepted receipt with each bad item recorded', async () => {
    const accepted: { receiptId: string; raw: string; rejected: number }[] = [];
    const statuses = new Map<number, number>();
    const refusedReasons: string[] = []; // of every whole refusal that must have its dead letter (4xx but 413)
    await fc.assert(
      fc.asyncProperty(payloadArb, async (p) => {
        const raw = build(p);
        const normalized = normalizeWebhook(raw, new Date()); // a throw here fails the property (and shrinks)
        const r = await s.webhook(raw);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status).toBeLessThan(500);
        expect([200, 400, 413]).toContain(r.status);
        // refused whole (bad envelope, too big): the answer must say why (and, but for 413, so must its dead letter)
        const why: unknown = r.body?.message;
        const says = typeof why === 'string' && why.trim() !== '' && why !== r.body?.error; // a reason, not just "Bad Request"
        if (r.status !== 200) expect({ status: r.status, why, says }).toEqual({ status: r.status, why, says: true });
        if (r.status >= 400 && r.status < 500 && r.status !== 413) refusedReasons.push(String(why));
        if (r.status === 200) accepted.push({ receiptId: r.body.receiptId, raw, rejected: normalized.rejected.length });
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    expect(accepted.length).toBeGreaterThan(RUNS / 4); // most payloads must reach ingest, or the fuzzer tests only the gateway

    const failed = () => s.logs.lines.filter((l) => l.includes('webhook item failed'));
    const processed = async () =>
      new Set(
        (await s.sql<{ event_id: string }>(`SELECT event_id FROM ingest.processed_event WHERE consumer = 'ingest-webhooks' AND event_id = ANY($1)`, [accepted.map((a) => a.receiptId)])).map(
          (r) => r.event_id,
        ),
      );
    // done when every receipt is processed, or some keep failing (those would only end in the DLQ after ~15 min)
    await waitFor(async () => (await processed()).size === accepted.length || failed().length > 0, { what: 'every accepted receipt handled', timeoutMs: 60_000 + RUNS * 20 });
    await new Promise((r) => setTimeout(r, 500));
    const failures = failed();
    expect(failures.slice(0, 5)).toEqual([]);
    const done = await processed();
    expect(accepted.filter((a) => !done.has(a.receiptId)).map((a) => a.raw.slice(0, 300))).toEqual([]);

    const rows = await s.sql<{ receipt_id: string; n: number; reasonless: number }>(
      `SELECT receipt_id, count(*)::int AS n, count(*) FILTER (WHERE coalesce(reason, '') = '')::int AS reasonless FROM ingest.rejected_item GROUP BY receipt_id`,
    );
    const byReceipt = new Map(rows.map((r) => [r.receipt_id, r]));
    for (const a of accepted) expect({ receipt: a.receiptId, rejected: byReceipt.get(a.receiptId)?.n ?? 0 }).toEqual({ receipt: a.receiptId, rejected: a.rejected });
    expect(rows.reduce((n, r) => n + r.reasonless, 0)).toBe(0);
    const rejectedItems = rows.reduce((n, r) => n + r.n, 0);

    // every whole refusal (signed, 4xx but 413) is the gateway's dead letter, with the reason it was answered
    const letters = await s.sql<{ reason: string; n: number }>(
      `SELECT reason, count(*)::int AS n FROM gateway.webhook_rejected WHERE http_status BETWEEN 400 AND 499 AND http_status <> 413 AND reason <> '' GROUP BY reason`,
    );
    const byReason = (xs: [string, number][]) => Object.fromEntries(xs.sort(([a], [b]) => a.localeCompare(b)));
    const answered = new Map<string, number>();
    for (const why of refusedReasons) answered.set(why, (answered.get(why) ?? 0) + 1);
    expect(byReason(letters.map((l) => [l.reason, l.n]))).toEqual(byReason([...answered]));
    const [{ n: allLetters }] = await s.sql<{ n: number }>(`SELECT count(*)::int AS n FROM gateway.webhook_rejected`);
    expect(allLetters).toBe(refusedReasons.length);
    process.stdout.write(
      `webhook fuzz: ${RUNS} payloads, answers ${JSON.stringify(Object.fromEntries(statuses))}, ${refusedReasons.length} refused whole and dead-lettered with their reason, ${accepted.length} receipts finished by ingest, ${rejectedItems} items rejected with a reason, 0 failures\n`,
    );
  }, 120_000 + RUNS * 100);
});
