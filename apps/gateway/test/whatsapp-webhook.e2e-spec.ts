import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { WebhookReceivedV1 } from '@app/contracts';
import { parseConfig } from '@app/config';
import { OutboxRelay } from '@app/persistence';
import { NatsBus } from '@app/messaging';
import { createTestEnv, startApp, TEST_NATS_URL, waitFor, type TestEnv } from '@app/testing';
import { webhookFixtures } from '../../../test/support/fixtures';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { RECEIPT_STATEMENTS_IN_FLIGHT, ReceiptGroupCommit } from '../src/webhooks/whatsapp/receipt-group-commit';
import { sign } from '../src/webhooks/whatsapp/signature';
import { useWebhookRawBody } from '../src/webhooks/whatsapp/raw-body';

const SECRET_A = 'app-secret-a';
const SECRET_B = 'app-secret-b';

describe('WhatsApp webhook endpoint (gateway) on real PostgreSQL and JetStream', () => {
  let env: TestEnv;
  let app: INestApplication;
  let ds: DataSource;
  let observer: NatsBus;
  const relayed = new Map<string, string>();
  const fixtures = webhookFixtures();

  const start = async () => {
    const cfg = parseConfig(GatewayConfigSchema, {
      ...env.env,
      WHATSAPP_APP_SECRET: `${SECRET_A}, ${SECRET_B}`,
      WHATSAPP_VERIFY_TOKEN: 'tok-1,tok-2',
    });
    return startApp(GatewayModule.register(cfg), { setup: (a) => useWebhookRawBody(a, cfg.WEBHOOK_MAX_BYTES) });
  };
  const post = (raw: string | Buffer, signature?: string, type = 'application/json') => {
    const r = request(app.getHttpServer()).post('/webhooks/whatsapp').set('Content-Type', type);
    if (signature) r.set('X-Hub-Signature-256', signature);
    return r.send(raw);
  };
  const receipts = async () => (await ds.query(`SELECT count(*)::int AS n FROM gateway.webhook_receipt`))[0].n as number;
  const deadLetters = async () => (await ds.query(`SELECT count(*)::int AS n FROM gateway.webhook_rejected`))[0].n as number;
  /** A counter's value (0 when absent): the line of `name` carrying every given label. */
  const metric = async (name: string, labels: Record<string, string>) => {
    const text = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return Number(line?.split(' ').pop() ?? 0);
  };

  beforeAll(async () => {
    env = await createTestEnv();
    app = await start();
    ds = app.get(DataSource);
    // a separate connection plays ingest, so it outlives gateway restarts
    observer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: env.namespace, service: 'observer' });
    await observer.consume(WebhookReceivedV1, { durable: 'test-observer' }, async (e) => {
      relayed.set(e.eventId, e.body);
    });
  });
  afterAll(async () => {
    await observer?.close();
    await app?.close();
    await env?.cleanup();
  });

  describe('subscription handshake', () => {
    it('answers the challenge as plain text for any configured verify token', async () => {
      const res = await request(app.getHttpServer())
        .get('/webhooks/whatsapp')
        .query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'tok-2', 'hub.challenge': '1158201444' })
        .expect(200);
      expect(res.text).toBe('1158201444');
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    });

    it.each([
      [{ 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': 'x' }],
      [{ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'tok-1', 'hub.challenge': 'x' }],
      [{ 'hub.mode': 'subscribe', 'hub.challenge': 'x' }],
    ])('refuses %j with 403', async (query) => {
      await request(app.getHttpServer()).get('/webhooks/whatsapp').query(query).expect(403);
    });
  });

  describe('signature', () => {
    const body = fixtures.find((f) => f.name === 'messages/messages-text-real-capture')!.raw;

    it.each([
      ['missing', undefined],
      ['wrong', 'sha256=' + 'ab'.repeat(32)],
      ['made with another secret', sign(body, 'not-our-secret')],
      ['malformed', 'sha1=abc'],
    ])('%s signature → 401 and nothing stored, not even as a dead letter', async (_what, signature) => {
      const [before, lettersBefore] = [await receipts(), await deadLetters()];
      const res = await post(body, signature).expect(401);
      expect(res.body.message).toMatch(/X-Hub-Signature-256/);
      expect(await receipts()).toBe(before);
      expect(await deadLetters()).toBe(lettersBefore);
    });

    it('a bad body with an invalid signature → 401, no dead letter (anyone can send those)', async () => {
      const lettersBefore = await deadLetters();
      await post('{"object":', sign('{"object":', 'not-our-secret')).expect(401);
      expect(await deadLetters()).toBe(lettersBefore);
    });

    it('body altered by one byte after signing → 401', async () => {
      const signature = sign(body, SECRET_A);
      const altered = Buffer.from(body);
      altered[altered.length - 3] ^= 1;
      await post(altered, signature).expect(401);
    });

    it('is checked on the exact bytes: non-ASCII and odd whitespace survive (no re-serialising)', async () => {
      const raw = `{"object":"whatsapp_business_account",  "entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"9"},"messages":[{"from":"1","id":"wamid.unicode","timestamp":"1","type":"text","text":{"body":"olá 👋 \\u00e9"}}]}}]}]}\n`;
      const res = await post(raw, sign(raw, SECRET_B)).expect(200);
      const [row] = await ds.query(`SELECT body, app_index FROM gateway.webhook_receipt WHERE id = $1`, [res.body.receiptId]);
      expect(row.body).toBe(raw);
      expect(row.app_index).toBe(1);
    });
  });

  describe('bad bodies with a valid signature → 400 with a message, never 500, and one dead letter with the reason', () => {
    it.each([
      ['empty body', '', /empty body/],
      ['not JSON', '{"object":', /not JSON/],
      ['a JSON array', '[1,2]', /not a JSON object/],
      ['another product', '{"object":"instagram","entry":[]}', /not a WhatsApp Business Account webhook/],
      ['no entry array', '{"object":"whatsapp_business_account"}', /no entry array/],
    ])('%s', async (_what, raw, message) => {
      const before = await receipts();
      const res = await post(raw, sign(raw, SECRET_B)).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(res.body.message).toMatch(message);
      expect(await receipts()).toBe(before);
      // durable before the answer, like a receipt: the row is there the moment we get the 400
      const rows = await ds.query(`SELECT app_index, http_status, reason, body, byte_length, body_truncated FROM gateway.webhook_rejected WHERE body = $1`, [raw]);
      expect(rows).toEqual([{ app_index: 1, http_status: 400, reason: res.body.message, body: raw, byte_length: Buffer.byteLength(raw), body_truncated: false }]);
    });

    it('keeps at most 64 KiB of the body (cut on a character boundary), NUL as U+FFFD, and counts it', async () => {
      const stored = await metric('switchboard_webhook_dead_letters_total', { status: '400', result: 'stored' });
      const raw = Buffer.concat([Buffer.from('\u0000not json '), Buffer.from('é'.repeat(40_000))]); // 2-byte characters across the cut
      const res = await post(raw, sign(raw, SECRET_A), 'application/octet-stream').expect(400);
      expect(res.body.message).toBe('body is not JSON');
      const [row] = await ds.query(`SELECT app_index, body, byte_length, body_truncated, octet_length(body) AS kept FROM gateway.webhook_rejected WHERE byte_length = $1`, [raw.length]);
      expect(row).toMatchObject({ app_index: 0, byte_length: raw.length, body_truncated: true });
      expect(row.kept).toBeLessThanOrEqual(64 * 1024 + 2); // NUL (1 byte) became U+FFFD (3 bytes)
      expect(row.body.startsWith('\ufffdnot json éé')).toBe(true);
      expect(row.body.endsWith('é')).toBe(true);
      expect(await metric('switchboard_webhook_dead_letters_total', { status: '400', result: 'stored' })).toBe(stored + 1);
    });

    it('still answers 400 (never 5xx) when the dead letter cannot be stored, and logs and counts that', async () => {
      const failed = await metric('switchboard_webhook_dead_letters_total', { status: '400', result: 'failed' });
      await ds.query(`ALTER TABLE gateway.webhook_rejected RENAME TO webhook_rejected_away`);
      try {
        const raw = '{"object":';
        const res = await post(raw, sign(raw, SECRET_A)).expect(400);
        expect(res.body.message).toMatch(/not JSON/);
      } finally {
        await ds.query(`ALTER TABLE gateway.webhook_rejected_away RENAME TO webhook_rejected`);
      }
      expect(await metric('switchboard_webhook_dead_letters_total', { status: '400', result: 'failed' })).toBe(failed + 1);
    });

    it('a body over WEBHOOK_MAX_BYTES → 413, counted, not stored anywhere', async () => {
      const [before, lettersBefore] = [await receipts(), await deadLetters()];
      const tooLarge = await metric('switchboard_webhooks_total', { outcome: 'too_large' });
      const raw = `{"object":"whatsapp_business_account","entry":[],"pad":"${'x'.repeat(3 * 1024 * 1024)}"}`;
      const res = await post(raw, sign(raw, SECRET_A)).expect(413);
      expect(res.body).toMatchObject({ statusCode: 413, message: expect.any(String) });
      expect([await receipts(), await deadLetters()]).toEqual([before, lettersBefore]);
      expect(await metric('switchboard_webhooks_total', { outcome: 'too_large' })).toBe(tooLarge + 1);
    });

    it('a non-JSON content type is still read raw and judged by its bytes', async () => {
      const raw = fixtures[0].raw;
      await post(raw, sign(raw, SECRET_A), 'text/plain').expect(200);
    });
  });

  it('stores every fixture durably before answering 200, then relays each exactly as received', async () => {
    const ids: string[] = [];
    for (const f of fixtures) {
      const res = await post(f.raw, sign(f.raw, SECRET_A)).expect(200);
      // durable before the answer: the row is there the moment we get the 200
      const [row] = await ds.query(`SELECT body FROM gateway.webhook_receipt WHERE id = $1`, [res.body.receiptId]);
      expect(row?.body).toBe(f.raw);
      ids.push(res.body.receiptId);
    }
    await waitFor(() => ids.every((id) => relayed.has(id)), { what: 'every receipt relayed', timeoutMs: 30_000 });
    for (const [i, f] of fixtures.entries()) expect(relayed.get(ids[i])).toBe(f.raw);
    // answered ahead of Nest's router, yet counted under its own route in the HTTP metric
    const metrics = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
    const posted = metrics.match(/^switchboard_http_request_seconds_count\{[^}]*method="POST",route="\/webhooks\/whatsapp",status="200"[^}]*\} (\d+)$/m);
    expect(Number(posted?.[1])).toBeGreaterThanOrEqual(fixtures.length);
    expect(metrics).not.toContain('/webhooks/whatsappunmatched');
    // the relay marks rows published right after the broker acknowledged them (the observer may be faster)
    await waitFor(async () => (await ds.query(`SELECT count(*)::int AS n FROM gateway.outbox WHERE published_at IS NULL`))[0].n === 0, {
      what: 'every outbox row marked published',
    });
  });

  it('concurrent webhooks are group-committed: each 200 only once its own row is stored, several rows per commit', async () => {
    const bodies = Array.from({ length: 48 }, (_, i) => fixtures[i % fixtures.length].raw.replace('"whatsapp_business_account"', `"whatsapp_business_account", "n": ${i}`));
    // hold inserts back (as a busy database would) so the webhooks pile up behind the statements in flight
    const holder = ds.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(`LOCK TABLE gateway.webhook_receipt IN SHARE MODE`);
    let answered = 0;
    const pending = bodies.map(async (raw) => {
      const res = await post(raw, sign(raw, SECRET_A)).expect(200);
      answered++;
      const [row] = await ds.query(`SELECT body FROM gateway.webhook_receipt WHERE id = $1`, [res.body.receiptId]);
      expect(row?.body).toBe(raw);
      return res.body.receiptId as string;
    });
    const group = app.get(ReceiptGroupCommit);
    try {
      await waitFor(() => group.waiting === 48 - RECEIPT_STATEMENTS_IN_FLIGHT, { what: 'the rest waiting behind the statements in flight' });
      expect(answered).toBe(0); // nothing is answered before it is stored
    } finally {
      await holder.commitTransaction();
      await holder.release();
    }
    const ids = await Promise.all(pending);
    const [c] = await ds.query(
      `SELECT count(*)::int AS receipts, count(DISTINCT r.xmin::text)::int AS commits, count(o.id)::int AS with_event
       FROM gateway.webhook_receipt r LEFT JOIN gateway.outbox o ON o.id = r.id WHERE r.id = ANY($1::uuid[])`,
      [ids],
    );
    // every receipt with its outbox row; rows written by one commit share its xmin: 2 + 1 commits, not 48
    expect(c).toEqual({ receipts: 48, with_event: 48, commits: RECEIPT_STATEMENTS_IN_FLIGHT + 1 });
    await waitFor(() => ids.every((id) => relayed.has(id)), { what: 'every grouped receipt relayed', timeoutMs: 30_000 });
    ids.forEach((id, i) => expect(relayed.get(id)).toBe(bodies[i]));
  });

  it('answers 503 fast, storing nothing, when the receipt cannot be written', async () => {
    await ds.query(`ALTER TABLE gateway.webhook_receipt RENAME TO webhook_receipt_away`);
    try {
      const raw = fixtures[0].raw;
      const res = await post(raw, sign(raw, SECRET_A)).expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/could not be stored/) });
      expect(res.headers['retry-after']).toBe('5'); // Meta (or any client) is told when to come back
    } finally {
      await ds.query(`ALTER TABLE gateway.webhook_receipt_away RENAME TO webhook_receipt`);
    }
  });

  it('a receipt stored but never relayed (crash between the two) is relayed by the next gateway', async () => {
    const raw = fixtures[1].raw;
    // stop this gateway's relay as a crash would, after the 200
    await app.get(OutboxRelay).beforeApplicationShutdown();
    const res = await post(raw, sign(raw, SECRET_A)).expect(200);
    await new Promise((r) => setTimeout(r, 600));
    expect(relayed.has(res.body.receiptId)).toBe(false);
    await app.close();
    app = await start();
    ds = app.get(DataSource);
    await waitFor(() => relayed.has(res.body.receiptId), { what: 'leftover receipt relayed after restart' });
  });
});
