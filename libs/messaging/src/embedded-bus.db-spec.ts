import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { z } from 'zod';
import { defineEvent, defineRequest } from '@app/contracts';
import { createTestDatabase, waitFor, type TestDatabase } from '@app/testing';
import { EmbeddedBus, subjectRegex } from './embedded-bus';
import { ConflictError, RemoteError, UpstreamTimeoutError, UpstreamUnavailableError } from './errors';
import type { StreamEntry } from './stream-feed';

const Thing = defineEvent({
  subject: 'inbox.test-thing.happened.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({ eventId: z.string().uuid(), n: z.number() }),
});
const Echo = defineRequest({
  subject: 'ingest.echo-test.v1',
  service: 'ingest',
  request: z.object({ text: z.string() }),
  response: z.object({ text: z.string() }),
  timeoutMs: 300,
});
const Presence = { subject: 'presence.test.v1', schema: z.object({ who: z.string() }) };

/** The in-process bus of single-machine mode, with its event log on a real database. */
describe('EmbeddedBus', () => {
  let db: TestDatabase;
  let bus: EmbeddedBus;
  let other: EmbeddedBus;
  const open = (service: string) => EmbeddedBus.connect({ databaseUrl: db.url, namespace: '', service });
  const ev = (n: number) => ({ eventId: randomUUID(), n });

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await open('test');
    other = await open('test-other');
  });
  afterAll(async () => {
    await other?.close();
    await bus?.close();
    await db?.drop();
  });

  it('answers a request, carries domain errors as codes, refuses bad input, and fails fast without responders', async () => {
    await other.respond(Echo, async ({ text }) => {
      if (text === 'clash') throw new ConflictError('already claimed by Ana');
      return { text: text.toUpperCase() };
    });
    await expect(bus.request(Echo, { text: 'hi' })).resolves.toEqual({ text: 'HI' });
    await expect(bus.request(Echo, { text: 'clash' })).rejects.toMatchObject({ constructor: RemoteError, code: 'CONFLICT', message: 'already claimed by Ana' });
    await expect(bus.request(Echo, { text: 3 } as never)).rejects.toThrow(); // the caller's contract refuses it before sending
    await expect(bus.request({ ...Echo, subject: 'routing.nobody-home.v1' }, { text: 'x' })).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it('times out a slow responder at the contract timeout', async () => {
    const Slow = { ...Echo, subject: 'ingest.slow-test.v1', timeoutMs: 50 };
    let release!: () => void;
    await other.respond(Slow, () => new Promise((r) => (release = () => r({ text: 'late' }))));
    await expect(bus.request(Slow, { text: 'x' })).rejects.toBeInstanceOf(UpstreamTimeoutError);
    release();
  });

  it('a closed service no longer answers: UNAVAILABLE', async () => {
    const Gone = { ...Echo, subject: 'ingest.gone-test.v1' };
    const leaving = await open('leaving');
    await leaving.respond(Gone, async ({ text }) => ({ text }));
    await expect(bus.request(Gone, { text: 'a' })).resolves.toEqual({ text: 'a' });
    await leaving.close();
    await expect(bus.request(Gone, { text: 'a' })).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it('delivers each event once per durable consumer and drops a repeated event id', async () => {
    const seenA: number[] = [];
    const seenB: number[] = [];
    const T = { ...Thing, subject: 'inbox.test-dedupe.happened.v1' };
    await bus.consume(T, { durable: 'a-dedupe' }, async (p) => void seenA.push(p.n));
    await other.consume(T, { durable: 'b-dedupe' }, async (p) => void seenB.push(p.n));
    const first = ev(1);
    await bus.publish(T, first);
    await bus.publish(T, first);
    await bus.publish(T, ev(2));
    await waitFor(() => seenA.includes(2) && seenB.includes(2), { what: 'both consumers' });
    expect(seenA).toEqual([1, 2]);
    expect(seenB).toEqual([1, 2]);
  });

  it('redelivers a failing handler with backoff, then dead-letters it with the error', async () => {
    const attempts: number[] = [];
    const Failing = { ...Thing, subject: 'inbox.test-failing.happened.v1' };
    await bus.consume(Failing, { durable: 'test-failing', maxDeliver: 3, backoffMs: 20 }, async (_p, meta) => {
      attempts.push(meta.deliveryCount);
      throw new Error('database said no');
    });
    const e = ev(7);
    await bus.publish(Failing, e);
    const letters = await waitFor(async () => {
      const l = await bus.readDeadLetters(Failing.subject);
      return l.length ? l : undefined;
    }, { what: 'dead letter' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(letters).toEqual([expect.objectContaining({ subject: Failing.subject, consumer: 'test-failing', deliveryCount: 3, error: 'database said no' })]);
    expect(JSON.parse(letters[0].payload)).toEqual(e);
  });

  it('a handler that fails once is retried and then succeeds', async () => {
    const Flaky = { ...Thing, subject: 'inbox.test-flaky.happened.v1' };
    const attempts: number[] = [];
    await bus.consume(Flaky, { durable: 'test-flaky', backoffMs: 10 }, async (_p, meta) => {
      attempts.push(meta.deliveryCount);
      if (meta.deliveryCount === 1) throw new Error('try again');
    });
    await bus.publish(Flaky, ev(1));
    await waitFor(() => attempts.length === 2, { what: 'the retry' });
    expect(attempts).toEqual([1, 2]);
    expect(await bus.readDeadLetters(Flaky.subject)).toEqual([]);
  });

  it('dead-letters a payload that does not match its contract without calling the handler', async () => {
    const Bad = { ...Thing, subject: 'inbox.test-bad.happened.v1' };
    const handler = jest.fn(async () => undefined);
    await bus.consume(Bad, { durable: 'test-bad' }, handler);
    await bus.publish({ ...Bad, schema: z.any() }, { n: 'x' });
    const letters = await waitFor(async () => {
      const l = await bus.readDeadLetters(Bad.subject);
      return l.length ? l : undefined;
    }, { what: 'dead letter' });
    expect(letters[0].error).toMatch(/invalid payload/);
    expect(handler).not.toHaveBeenCalled();
  });

  it('keeps a durable position across restarts, and redelivers what a dead process had leased but not acked', async () => {
    const D = { ...Thing, subject: 'inbox.test-durable.happened.v1' };
    // first life: handles event 1, is "killed" while handling event 2 (its handler never returns)
    const life1 = await open('life1');
    const handled1: number[] = [];
    let stuck = false;
    await life1.consume(D, { durable: 'test-durable' }, async (p) => {
      if (p.n === 2) {
        stuck = true;
        return new Promise<void>(() => undefined);
      }
      handled1.push(p.n);
    });
    await bus.publish(D, ev(1));
    await bus.publish(D, ev(2));
    await waitFor(() => stuck, { what: 'event 2 in flight' });
    expect(handled1).toEqual([1]);
    // the process is gone: nothing of it runs any more (no close, no ack)
    (life1 as unknown as { consumers: { running: boolean }[] }).consumers.forEach((c) => (c.running = false));
    await bus.publish(D, ev(3));
    // second life, same durable: event 2 again (delivery 2), then 3; never 1
    const life2 = await open('life2');
    const handled2: [number, number][] = [];
    await life2.consume(D, { durable: 'test-durable' }, async (p, meta) => void handled2.push([p.n, meta.deliveryCount]));
    await waitFor(() => handled2.length === 2, { what: 'redelivery after restart' });
    expect(handled2).toEqual([
      [2, 2],
      [3, 1],
    ]);
    await life2.close();
  });

  it('a backlog larger than a consumer holds in memory arrives whole and in order, and every ack is recorded', async () => {
    const B = { ...Thing, subject: 'inbox.test-backlog.happened.v1' };
    const sent = Array.from({ length: 300 }, (_, i) => i);
    for (const n of sent) await bus.publish(B, ev(n));
    const seen: number[] = [];
    await bus.consume(B, { durable: 'test-backlog' }, async (p) => void seen.push(p.n));
    await waitFor(() => seen.length === sent.length, { what: 'the whole backlog', timeoutMs: 20_000 });
    expect(seen).toEqual(sent);
    // acked rows are gone (acks are written in batches, after the handlers)
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const left = async () => (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${bus.schema}.pending WHERE durable = 'test-backlog'`)).rows[0].n;
      await waitFor(async () => (await left()) === 0, { what: 'acks recorded' });
      expect(await left()).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('a delivery still running after its ack wait is delivered again, counted', async () => {
    const H = { ...Thing, subject: 'inbox.test-hung.happened.v1' };
    const deliveries: number[] = [];
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    await bus.consume(H, { durable: 'test-hung', concurrency: 2, ackWaitMs: 200 }, async (_p, meta) => {
      deliveries.push(meta.deliveryCount);
      if (meta.deliveryCount === 1) await hung; // hangs until the end of the test
    });
    await bus.publish(H, ev(1));
    await waitFor(() => deliveries.length === 2, { what: 'the redelivery' });
    release();
    expect(deliveries).toEqual([1, 2]);
  });

  it('tails a stream from now and replays a past range (the real-time feed and ?since=)', async () => {
    const R = { ...Thing, subject: 'inbox.test-replay.happened.v1' };
    await bus.publish(R, ev(1));
    const from = await bus.feed.lastSequence('INBOX_EVENTS');
    const live: StreamEntry[] = [];
    const tail = await bus.feed.tail('INBOX_EVENTS', from, async (e) => void live.push(e));
    await bus.publish(R, ev(2));
    await bus.publish(R, ev(3));
    await waitFor(() => live.length === 2, { what: 'live events' });
    await tail.stop();
    expect(live.map((e) => [e.subject, (e.data as { n: number }).n])).toEqual([
      [R.subject, 2],
      [R.subject, 3],
    ]);
    expect(live[0].seq).toBeGreaterThan(from);
    const replayed: number[] = [];
    await bus.feed.readRange('INBOX_EVENTS', from, live[1].seq, async (e) => void replayed.push((e.data as { n: number }).n));
    expect(replayed).toEqual([2, 3]);
    const none: StreamEntry[] = [];
    await bus.feed.readRange('WEBHOOKS', 0, live[1].seq, async (e) => void none.push(e));
    expect(none).toEqual([]);
  });

  it('broadcasts to every listener in the process, stored nowhere', async () => {
    const got: unknown[] = [];
    const off = await other.feed.onBroadcast(Presence, (p) => got.push(p));
    bus.feed.broadcast(Presence, { who: 'ana' });
    await waitFor(() => got.length === 1, { what: 'broadcast' });
    off();
    expect(got).toEqual([{ who: 'ana' }]);
    expect(() => bus.feed.broadcast(Presence, { who: 1 })).toThrow();
  });

  it('a wildcard consumer sees every matching subject', async () => {
    expect(new RegExp(subjectRegex('inbox.>')).test('inbox.a.b.v1')).toBe(true);
    expect(new RegExp(subjectRegex('inbox.*.v1')).test('inbox.a.b.v1')).toBe(false);
    const All = { ...Thing, subject: 'inbox.test-wild.>', schema: z.any() };
    const subjects: string[] = [];
    await bus.consume(All, { durable: 'test-wild' }, async (_p, meta) => void subjects.push(meta.subject));
    await bus.publish({ ...Thing, subject: 'inbox.test-wild.one.v1' }, ev(1));
    await bus.publish({ ...Thing, subject: 'inbox.test-other.two.v1' }, ev(2));
    await bus.publish({ ...Thing, subject: 'inbox.test-wild.three.v1' }, ev(3));
    await waitFor(() => subjects.length === 2, { what: 'wildcard deliveries' });
    expect(subjects).toEqual(['inbox.test-wild.one.v1', 'inbox.test-wild.three.v1']);
  });
});
