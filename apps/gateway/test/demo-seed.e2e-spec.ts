import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { ConversationOpenedV1, GetWorkV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';

/** The demo organisation works out of the box: the sandbox's number lands in the Sales queue. */
describe('demo seed (gateway + routing, real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let routing: INestApplication;
  let gateway: INestApplication;
  let peer: NatsBus;
  const NUMBER = '106540352242922';
  const login = async (who: string) =>
    (await request(gateway.getHttpServer()).post('/api/v1/auth/login').send({ email: `${who}@demo.switchboard.test`, password: 'switchboard-demo' }).expect(200)).body.accessToken as string;

  beforeAll(async () => {
    env = await createTestEnv({ SEED_DEMO: 'true' });
    // the gateway first: its seed must cope with routing starting after it
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'peer' });
  }, 60_000);
  afterAll(async () => {
    await peer?.close();
    await gateway?.close();
    await routing?.close();
    await env?.cleanup();
  });

  it('a customer writing to the sandbox number lands in the Sales queue, even though routing started after the gateway', async () => {
    const [sales] = await gateway.get(DataSource).query(`SELECT id FROM gateway.team WHERE name = 'Sales'`);
    const system = { type: 'system' as const, id: 'test', name: 'test', role: 'admin' as const, teamIds: [] };
    const work = await waitFor(async () => {
      const id = randomUUID();
      await peer.publish(ConversationOpenedV1, {
        eventId: randomUUID(), occurredAt: new Date().toISOString(), conversationId: id, phoneNumberId: NUMBER,
        contactId: randomUUID(), contactName: 'Demo customer', waId: '4915100000009', userId: null, reopened: false,
      });
      const w = await waitFor(() => peer.request(GetWorkV1, { actor: system, conversationId: id }).catch(() => undefined), { what: 'work item' });
      return w.teamId === sales.id ? w : undefined;
    }, { what: 'a demo conversation in the Sales queue', timeoutMs: 20_000, intervalMs: 500 });
    // the demo agents see it accordingly: Ana (Sales) may, Chloé (Support) may not
    const asAna = { ...system, type: 'user' as const, id: randomUUID(), role: 'agent' as const, teamIds: [sales.id] };
    await expect(peer.request(GetWorkV1, { actor: asAna, conversationId: work.conversationId })).resolves.toMatchObject({ teamId: sales.id });
    const asChloe = { ...asAna, teamIds: [randomUUID()] };
    await expect(peer.request(GetWorkV1, { actor: asChloe, conversationId: work.conversationId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await login('ana')).toMatch(/^sba_/);
  });
});
