import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, waitFor, type TestEnv } from '@app/testing';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { sign } from '../src/webhooks/whatsapp/signature';
import { useWebhookRawBody } from '../src/webhooks/whatsapp/raw-body';
import { textWebhook as customerText } from '../../../test/support/webhooks';

const SECRET = 'pipeline-secret';
const NUMBER = '106540352242922';

function textWebhook(wamid: string, from: string, body: string, ts?: number): string {
  return customerText({ phoneNumberId: NUMBER, displayPhoneNumber: '15550783881', from, name: `Customer ${from}`, text: body, wamid, ts });
}

describe('inbound pipeline: gateway → PostgreSQL receipt → JetStream → ingest → read API', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let ingest: INestApplication | undefined;
  let ds: DataSource;

  const startIngest = () => startApp(IngestModule.register(parseConfig(IngestConfigSchema, { ...env.env, MEDIA_DIR: `/tmp/sb-media-${env.namespace}` })));
  const post = (raw: string) =>
    request(gateway.getHttpServer())
      .post('/webhooks/whatsapp')
      .set('Content-Type', 'application/json')
      .set('X-Hub-Signature-256', sign(raw, SECRET))
      .send(raw);
  const countByWamid = async (wamids: string[]) =>
    (await ds.query(
      `SELECT wa_message_id, count(*)::int AS n FROM ingest.message WHERE wa_message_id = ANY($1) GROUP BY wa_message_id`,
      [wamids],
    )) as { wa_message_id: string; n: number }[];

  beforeAll(async () => {
    env = await createTestEnv();
    ingest = await startIngest();
    const cfg = parseConfig(GatewayConfigSchema, { ...env.env, WHATSAPP_APP_SECRET: SECRET });
    gateway = await startApp(GatewayModule.register(cfg), { setup: (a) => useWebhookRawBody(a, cfg.WEBHOOK_MAX_BYTES) });
    ds = gateway.get(DataSource);
  });
  afterAll(async () => {
    await gateway?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  it('a signed webhook becomes a conversation and a message, stored once', async () => {
    const from = '16505550001';
    const wamid = `wamid.${randomUUID()}`;
    const raw = textWebhook(wamid, from, 'Where is my order #1234?');
    await post(raw).expect(200);
    await post(raw).expect(200); // Meta retries
    const [row] = await waitFor(async () => {
      const r = await ds.query(
        `SELECT m.direction, m.type, m.text, c.phone_number_id, k.wa_id, k.profile_name
         FROM ingest.message m JOIN ingest.conversation c ON c.id = m.conversation_id JOIN ingest.contact k ON k.id = c.contact_id
         WHERE m.wa_message_id = $1`,
        [wamid],
      );
      return r.length ? r : undefined;
    }, { what: 'message stored' });
    expect(row).toEqual({
      direction: 'inbound', type: 'text', text: 'Where is my order #1234?', phone_number_id: NUMBER, wa_id: from, profile_name: `Customer ${from}`,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await countByWamid([wamid])).toEqual([{ wa_message_id: wamid, n: 1 }]);
  });

  it('webhooks accepted while ingest is down are processed exactly once after it restarts', async () => {
    await ingest!.close();
    ingest = undefined;
    const wamids = Array.from({ length: 25 }, () => `wamid.${randomUUID()}`);
    for (const [i, wamid] of wamids.entries()) {
      const raw = textWebhook(wamid, `1650555${String(1000 + i)}`, `message ${i}`);
      await post(raw).expect(200);
      if (i % 5 === 0) await post(raw).expect(200); // Meta's retries: the same webhook again
    }
    // the API says so clearly while ingest is away, without hanging
    const down = await request(gateway.getHttpServer()).get('/api/v1/system/services/ingest').expect(503);
    expect(down.body.message).toMatch(/ingest is unavailable/);
    expect(await countByWamid(wamids)).toEqual([]);

    ingest = await startIngest();
    const rows = await waitFor(async () => {
      const r = await countByWamid(wamids);
      return r.length === wamids.length ? r : undefined;
    }, { what: 'every accepted webhook stored', timeoutMs: 20_000 });
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });
});
