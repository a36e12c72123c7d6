import type { INestApplication } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { ConversationOpenedV1, GetMediaChunkV1 } from '@app/contracts';
import { NatsBus, NotFoundError } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';

const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const SALES_NUMBER = '1555000201';
const FILE = Buffer.from('\xff\xd8\xff fake jpeg bytes '.repeat(60_000), 'latin1'); // ~1.1 MB: several bus chunks

/** GET /api/v1/media/:messageId streams ingest's stored file, only to callers who may see the conversation. */
describe('media link: gateway → ingest chunks over NATS, scoped by routing (real PostgreSQL and NATS)', () => {
  let env: TestEnv;
  let routing: INestApplication;
  let gateway: INestApplication;
  let ingest: NatsBus; // plays ingest's GetMediaChunkV1 responder
  const tokens: Record<string, string> = {};
  const media = new Map<string, { conversationId: string; data: Buffer }>();
  const http = () => request(gateway.getHttpServer());

  beforeAll(async () => {
    env = await createTestEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    ingest = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'fake-ingest' });
    await ingest.respond(GetMediaChunkV1, async ({ messageId, offset, length }) => {
      const m = media.get(messageId);
      if (!m) throw new NotFoundError(`no stored media for message ${messageId}`);
      const data = m.data.subarray(offset, offset + length);
      return { conversationId: m.conversationId, mimeType: 'image/jpeg', size: m.data.length, sha256: createHash('sha256').update(m.data).digest('hex'), offset, data: data.toString('base64') };
    });
    tokens.admin = (await http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    const as = { Authorization: `Bearer ${tokens.admin}` };
    const teams: Record<string, string> = {};
    for (const name of ['Sales', 'Support']) teams[name] = (await http().post('/api/v1/teams').set(as).send({ name }).expect(201)).body.id;
    await http().put(`/api/v1/numbers/${SALES_NUMBER}/team`).set(as).send({ teamId: teams.Sales }).expect(200);
    for (const who of ['sales', 'support']) {
      const team = who === 'sales' ? teams.Sales : teams.Support;
      await http().post('/api/v1/users').set(as).send({ email: `${who}@example.test`, name: who, password: 'agent-password-123', role: 'agent', teamIds: [team] }).expect(201);
      tokens[who] = (await http().post('/api/v1/auth/login').send({ email: `${who}@example.test`, password: 'agent-password-123' }).expect(200)).body.accessToken;
    }
  }, 60_000);
  afterAll(async () => {
    await ingest?.close();
    await gateway?.close();
    await routing?.close();
    await env?.cleanup();
  });

  it('streams the whole file with its type to a member of the team, and 404s for anyone else', async () => {
    const conversationId = randomUUID();
    await ingest.publish(ConversationOpenedV1, {
      eventId: randomUUID(), occurredAt: new Date().toISOString(), conversationId, phoneNumberId: SALES_NUMBER,
      contactId: randomUUID(), contactName: null, waId: '4915100000001', userId: null, reopened: false,
    });
    const messageId = randomUUID();
    media.set(messageId, { conversationId, data: FILE });
    const res = await waitFor(async () => {
      const r = await http().get(`/api/v1/media/${messageId}`).set('Authorization', `Bearer ${tokens.sales}`).buffer(true).parse((resp, cb) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      return r.status === 200 ? r : undefined; // routing learns the conversation from the event first
    }, { what: 'media for the Sales agent' });
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(Number(res.headers['content-length'])).toBe(FILE.length);
    expect((res.body as Buffer).equals(FILE)).toBe(true);

    await http().get(`/api/v1/media/${messageId}`).set('Authorization', `Bearer ${tokens.support}`).expect(404);
    await http().get(`/api/v1/media/${messageId}`).expect(401);
    await http().get(`/api/v1/media/${randomUUID()}`).set('Authorization', `Bearer ${tokens.sales}`).expect(404);
    await http().get('/api/v1/media/not-a-uuid').set('Authorization', `Bearer ${tokens.sales}`).expect(400);
  });
});
