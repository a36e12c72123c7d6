import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { WebhookReceivedV1 } from '@app/contracts';
import { parseConfig } from '@app/config';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { IngestConfigSchema } from '../../apps/ingest/src/config';
import { IngestModule } from '../../apps/ingest/src/ingest.module';
import { spawnService, type ServiceProcess } from '../support/service-process';
import { textWebhook } from '../support/webhooks';

/**
 * SIGTERM on a running service process (what Kubernetes sends on a rolling deploy): it stops taking work, hands
 * back what it had pulled but not started (nak to JetStream, so another replica gets it at once rather than after
 * the ack wait), finishes what it had started, and exits 0 within SHUTDOWN_TIMEOUT_MS (10 s; past it the process
 * exits 1 by itself, so exit code 0 is also the deadline check).
 */
describe('graceful shutdown of a service process', () => {
  const N = 200;
  let env: TestEnv;
  let peer: NatsBus;
  let svc: ServiceProcess | undefined;
  let second: INestApplication | undefined;

  beforeAll(async () => {
    env = await createTestEnv({ MEDIA_DIR: `/tmp/sb-shutdown-media-${randomUUID()}` });
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
  });

  afterAll(async () => {
    svc?.proc.kill('SIGKILL');
    await second?.close();
    await peer?.close();
    await env?.cleanup();
  });

  it('ingest on SIGTERM exits 0 and its unfinished receipts are redelivered to another replica, each applied once', async () => {
    svc = spawnService('ingest', { ...env.env, PORT: '0', LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '10000' });
    const pg = new DataSource({ type: 'postgres', url: env.db.url });
    await pg.initialize();
    try {
      // the service migrated its schema and its durable consumer exists once the table answers
      const count = async () => Number((await pg.query(`SELECT count(*)::int AS n FROM ingest.message`))[0].n);
      await waitFor(() => count().then(() => true), { timeoutMs: 60_000, what: `ingest started: ${svc!.output()}` });

      const wamids = Array.from({ length: N }, (_, i) => `wamid.shutdown-${i}-${randomUUID()}`);
      for (let i = 0; i < N; i++) {
        const body = textWebhook({ phoneNumberId: '106540352242922', from: String(447700900000 + (i % 50)), text: `m${i}`, wamid: wamids[i] });
        await peer.publish(WebhookReceivedV1, { eventId: randomUUID(), occurredAt: new Date().toISOString(), body });
      }
      await waitFor(async () => (await count()) >= 20, { timeoutMs: 20_000, what: `ingest working: ${svc.output()}` });

      svc.proc.kill('SIGTERM');
      const { code, signal } = await svc.exited;
      expect({ code, signal, output: code === 0 ? '' : svc.output() }).toEqual({ code: 0, signal: null, output: '' });

      // it stopped part-way: the rest was handed back, not finished or dropped
      const appliedBeforeExit = await count();
      expect(appliedBeforeExit).toBeLessThan(N);

      // another replica takes the rest at once: handed-back receipts are redelivered now, while receipts the dead
      // process had merely kept would wait for the consumer's ack wait (30 s, longer than this wait) to run out
      second = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, { ...env.env, MEDIA_DIR: `/tmp/sb-shutdown-media-${randomUUID()}` })));
      await waitFor(async () => (await count()) >= N, { timeoutMs: 20_000, what: `all ${N} messages applied` });
      const [row] = await pg.query(
        `SELECT (SELECT count(*)::int FROM ingest.message WHERE wa_message_id = ANY($1)) AS messages,
                (SELECT count(*)::int FROM ingest.processed_event WHERE consumer = 'ingest-webhooks') AS receipts,
                (SELECT count(*)::int FROM ingest.outbox WHERE subject = 'inbox.message.received.v1') AS received_events`,
        [wamids],
      );
      expect(row).toEqual({ messages: N, receipts: N, received_events: N });
    } finally {
      await pg.destroy();
    }
  }, 150_000);
});
