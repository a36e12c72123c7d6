import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineEvent, defineRequest } from '@app/contracts';
import { TEST_NATS_URL, testNamespace, waitFor } from '@app/testing';
import { NatsBus } from './nats-bus';
import { ConflictError, RemoteError, UpstreamTimeoutError, UpstreamUnavailableError } from './errors';

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

describe('NatsBus on the real NATS server', () => {
  let bus: NatsBus;
  let other: NatsBus;
  const ns = testNamespace();

  beforeAll(async () => {
    bus = await NatsBus.connect({ url: TEST_NATS_URL, namespace: ns, service: 'test' });
    other = await NatsBus.connect({ url: TEST_NATS_URL, namespace: ns, service: 'test-other' });
  });
  afterAll(async () => {
    await other.close();
    await bus.deleteNamespaceStreams();
    await bus.close();
  });

  it('handles an event published twice with the same id once', async () => {
    const seen: number[] = [];
    await bus.consume(Thing, { durable: 'test-dedupe' }, async (p) => {
      seen.push(p.n);
    });
    const eventId = randomUUID();
    await bus.publish(Thing, { eventId, n: 1 });
    await bus.publish(Thing, { eventId, n: 1 });
    await bus.publish(Thing, { eventId: randomUUID(), n: 2 });
    await waitFor(() => seen.includes(2), { what: 'second event' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.sort()).toEqual([1, 2]);
  });

  it('redelivers a failing handler with backoff, then dead-letters it with the error', async () => {
    const attempts: number[] = [];
    const Failing = { ...Thing, subject: 'inbox.test-failing.happened.v1' };
    await bus.consume(Failing, { durable: 'test-failing', maxDeliver: 3, backoffMs: 50 }, async (_p, meta) => {
      attempts.push(meta.deliveryCount);
      throw new Error('database said no');
    });
    const eventId = randomUUID();
    await bus.publish(Failing, { eventId, n: 7 });
    const letters = await waitFor(async () => {
      const l = await bus.readDeadLetters(Failing.subject);
      return l.length ? l : undefined;
    }, { what: 'dead letter' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ subject: Failing.subject, deliveryCount: 3, error: 'database said no' });
    expect(JSON.parse(letters[0].payload)).toEqual({ eventId, n: 7 });
  });

  it('dead-letters a payload that does not match its contract without calling the handler', async () => {
    const Bad = { ...Thing, subject: 'inbox.test-bad.happened.v1' };
    const handler = jest.fn(async () => undefined);
    await bus.consume(Bad, { durable: 'test-bad' }, handler);
    await bus.connection.jetstream().publish(bus.subject(Bad.subject), new TextEncoder().encode('{"n":"x"}'));
    const letters = await waitFor(async () => {
      const l = await bus.readDeadLetters(Bad.subject);
      return l.length ? l : undefined;
    }, { what: 'dead letter' });
    expect(letters[0].error).toMatch(/invalid payload/);
    expect(handler).not.toHaveBeenCalled();
  });

  it('answers a request, carries domain errors as codes, and fails fast without responders', async () => {
    await other.respond(Echo, async ({ text }) => {
      if (text === 'clash') throw new ConflictError('already claimed by Ana');
      return { text: text.toUpperCase() };
    });
    await expect(bus.request(Echo, { text: 'hi' })).resolves.toEqual({ text: 'HI' });
    await expect(bus.request(Echo, { text: 'clash' })).rejects.toMatchObject({
      constructor: RemoteError,
      code: 'CONFLICT',
      message: 'already claimed by Ana',
    });
    const NoOne = { ...Echo, subject: 'routing.nobody-home.v1' };
    const started = Date.now();
    await expect(bus.request(NoOne, { text: 'x' })).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(Date.now() - started).toBeLessThan(NoOne.timeoutMs);
  });

  it('times out a slow responder at the contract timeout', async () => {
    const Slow = { ...Echo, subject: 'ingest.slow-test.v1' };
    await other.respond(Slow, () => new Promise((r) => setTimeout(() => r({ text: 'late' }), 1_000)));
    await expect(bus.request(Slow, { text: 'x' })).rejects.toBeInstanceOf(UpstreamTimeoutError);
  });
});
