import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { NoticeRequestedV1, type PayloadOf } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { OutboxRelay } from '@app/persistence';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { SlaConfigSchema } from '../src/config';
import { SlaModule } from '../src/sla.module';
import { EscalationWriter } from '../src/timers/escalation.writer';

/**
 * Notices written in a batch (due reminders) leave when their transaction commits: the outbox relay's pass runs
 * after the commit, not inside the transaction (where it would not see the rows and leave them to the next poll).
 */
describe('sla notices written in a batch (real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let sla: INestApplication;
  let peer: NatsBus;
  const notices: PayloadOf<typeof NoticeRequestedV1>[] = [];

  beforeAll(async () => {
    env = await createTestEnv({ SLA_TIMER_POLL_MS: '0' });
    sla = await startApp(SlaModule.register(parseConfig(SlaConfigSchema, env.env)));
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
    await peer.consume(NoticeRequestedV1, { durable: 'test-notices' }, async (n) => void notices.push(n));
  }, 60_000);
  afterAll(async () => {
    await peer?.close();
    await sla?.close();
    await env?.cleanup();
  });

  it('reminder notices are relayed by the pass their commit starts (no poll needed)', async () => {
    const relay = sla.get(OutboxRelay);
    // no poll to fall back on: only the kick that the write asks for can relay the rows
    clearInterval(relay['timer']);
    await relay['running'];
    const userId = randomUUID();
    await sla.get(DataSource).transaction(async (em) => {
      await sla.get(EscalationWriter).notices(em, [{ kind: 'reminder', conversationId: randomUUID(), userIds: [userId], title: 'Reminder', body: 'call back' }], new Date());
      await relay['running']; // a pass started now, inside the transaction, finds nothing to relay
    });
    const got = await waitFor(() => notices.find((n) => n.audience.userIds.includes(userId)), { what: 'the reminder notice on the bus' });
    expect(got).toMatchObject({ kind: 'reminder', body: 'call back', source: 'sla' });
  });
});
