import type { INestApplication } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { startApp, waitFor } from '@app/testing';
import { FIXTURES_DIR } from '../../../test/support/fixtures';
import { SandboxConfigSchema } from '../src/config';
import { SandboxModule } from '../src/sandbox.module';

const SECRET = 'sandbox-e2e-secret';
const TOKEN = 'sandbox-e2e-token';
const fixture = (p: string) => JSON.parse(readFileSync(join(FIXTURES_DIR, 'graph', p), 'utf8'));

describe('WhatsApp Cloud API sandbox over HTTP', () => {
  let app: INestApplication;
  let hooks: Server;
  const received: { raw: string; signature: string | undefined }[] = [];
  let http: ReturnType<typeof request>;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const sendText = (pn: string, to: string | number, body = 'hola') =>
    request(app.getHttpServer()).post(`/v23.0/${pn}/messages`).set(auth).send({ ...fixture('requests/send-text.json'), to, text: { body } });

  beforeAll(async () => {
    hooks = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ raw, signature: req.headers['x-hub-signature-256'] as string | undefined });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    const cfg = parseConfig(SandboxConfigSchema, {
      NODE_ENV: 'test',
      SANDBOX_ACCESS_TOKEN: TOKEN,
      WHATSAPP_APP_SECRET: `${SECRET},older-secret`,
      SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/webhooks/whatsapp`,
      SANDBOX_STATUS_DELAYS_MS: '10,20,30',
      SANDBOX_RATE_PER_SECOND: '5',
      SANDBOX_PAIR_INTERVAL_MS: '6000',
      SANDBOX_PHONE_NUMBER_IDS: '106540352242922,106540352242923,106540352242924',
    });
    app = await startApp(SandboxModule.register(cfg), { listen: true });
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((r) => hooks.close(r));
  });

  it('accepts a documented send with the documented success body and a new wamid, then sends signed sent → delivered → read', async () => {
    const res = await sendText('106540352242922', 13437772910).expect(200);
    const doc = fixture('responses/send-success-text.json');
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(doc).sort());
    expect(res.body.contacts).toEqual([{ input: '13437772910', wa_id: '13437772910' }]);
    const wamid = res.body.messages[0].id;
    expect(wamid).toMatch(/^wamid\./);
    const statuses = await waitFor(() => {
      const mine = received.map((r) => ({ ...r, body: JSON.parse(r.raw) })).filter((r) => r.body.entry[0].changes[0].value.statuses?.[0]?.id === wamid);
      return mine.length === 3 ? mine : null;
    });
    for (const s of statuses) {
      expect(s.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(s.raw).digest('hex')}`);
      expect(s.body).toMatchObject({
        object: 'whatsapp_business_account',
        entry: [{ id: expect.any(String), changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '106540352242922' } } }] }],
      });
      expect(s.body.entry[0].changes[0].value.statuses[0]).toMatchObject({ recipient_id: '13437772910', timestamp: expect.stringMatching(/^\d+$/) });
    }
    expect(statuses.map((s) => s.body.entry[0].changes[0].value.statuses[0].status).sort()).toEqual(['delivered', 'read', 'sent']);
    const sent = await http.get('/sandbox/sent').query({ phoneNumberId: '106540352242922' }).expect(200);
    expect(sent.body.count).toBe(1);
  });

  it('answers a bad token with 401/190, an unknown number like the 100/33 fixture, a bad body with 400', async () => {
    const bad = await request(app.getHttpServer()).post('/v23.0/106540352242922/messages').set('Authorization', 'Bearer nope').send(fixture('requests/send-text.json')).expect(401);
    expect(bad.body.error).toMatchObject({ code: 190, type: 'OAuthException', fbtrace_id: expect.any(String) });
    const unknown = await sendText('123123', 13437772910).expect(400);
    const doc = fixture('responses/error-100-subcode-33-unknown-phone-number-id.json');
    expect(unknown.body.error).toMatchObject({ code: 100, error_subcode: 33, type: doc.error.type });
    expect(unknown.body.error.message).toBe(doc.error.message.replace('123123', '123123'));
    const empty = await sendText('106540352242922', 13437772911, '').expect(400);
    expect(empty.body.error).toMatchObject({ code: 131008, error_data: { messaging_product: 'whatsapp', details: expect.stringContaining("text['body']") } });
  });

  it('enforces the per-number throughput (130429, HTTP 400, shaped like the fixture) and the pair limit (131056)', async () => {
    const pn = '106540352242923';
    const first = await sendText(pn, 15550000100).expect(200);
    expect(first.body.messages[0].id).toMatch(/^wamid\./);
    const pair = await sendText(pn, 15550000100).expect(400);
    expect(pair.body.error.code).toBe(131056);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => sendText(pn, 15550000200 + i)));
    const limited = answers.filter((a) => a.status === 400);
    expect(limited.length).toBeGreaterThanOrEqual(5);
    const doc = fixture('responses/error-130429-rate-limit-hit-meta-doc-example.json');
    expect(limited[0].body.error).toMatchObject({ code: 130429, message: doc.error.message, type: doc.error.type, error_subcode: doc.error.error_subcode });
    expect(limited[0].body.error.error_data).toEqual(doc.error.error_data);
    const sent = await http.get('/sandbox/sent').query({ phoneNumberId: pn }).expect(200);
    expect(sent.body.count).toBe(1 + answers.length - limited.length);
    expect(sent.body.rejected['130429']).toBe(limited.length);
  });

  it('answers mark-as-read with typing indicator with {success:true}', async () => {
    const res = await http.post('/v23.0/106540352242924/messages').set(auth).send(fixture('requests/mark-read-with-typing-indicator.json')).expect(200);
    expect(res.body).toEqual(fixture('responses/mark-read-typing-indicator-success.json'));
  });

  it('uploads, describes, downloads (Bearer only) and deletes media', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const up = await http
      .post('/v23.0/106540352242924/media')
      .set(auth)
      .field('messaging_product', 'whatsapp')
      .field('type', 'image/png')
      .attach('file', png, { filename: 'a.png', contentType: 'image/png' })
      .expect(200);
    expect(Object.keys(up.body)).toEqual(Object.keys(fixture('responses/media-upload-success.json')));
    const info = await http.get(`/v23.0/${up.body.id}`).set(auth).expect(200);
    expect(Object.keys(info.body).sort()).toEqual(Object.keys(fixture('responses/media-url-retrieval.json')).sort());
    expect(info.body).toMatchObject({ id: up.body.id, mime_type: 'image/png', file_size: png.length, sha256: createHash('sha256').update(png).digest('hex') });
    const path = new URL(info.body.url).pathname;
    await http.get(path).expect(401);
    const file = await http.get(path).set(auth).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(Buffer.compare(file.body as Buffer, png)).toBe(0);
    await http.delete(`/v23.0/${up.body.id}`).set(auth).expect(200, { success: true });
    await http.get(`/v23.0/${up.body.id}`).set(auth).expect(400);
    const wrongType = await http.post('/v23.0/106540352242924/media').set(auth).field('messaging_product', 'whatsapp').attach('file', png, { filename: 'a.exe', contentType: 'application/x-msdownload' }).expect(400);
    expect(wrongType.body.error.code).toBe(100);
  });

  it('lists templates with status and components, paged', async () => {
    const page1 = await http.get('/v23.0/100000000000001/message_templates').query({ limit: 2 }).set(auth).expect(200);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.data[0]).toMatchObject({ name: 'hello_world', language: 'en_US', status: 'APPROVED', components: expect.any(Array) });
    const next = new URL(page1.body.paging.next);
    const page2 = await http.get(`${next.pathname}${next.search}`).set(auth).expect(200);
    expect(page2.body.data[0].name).toBe('order_update');
  });

  it('lets a customer write (signed webhook like the documented envelope) and runs the burst scenario', async () => {
    const before = received.length;
    const res = await http.post('/sandbox/customers/15551234567/messages').send({ text: 'Hi <b>there</b>', name: 'Ana', phoneNumberId: '106540352242922' }).expect(200);
    expect(res.body).toMatchObject({ delivered: true, waMessageId: expect.stringMatching(/^wamid\./) });
    const hook = JSON.parse(received.slice(before).find((r) => r.raw.includes(res.body.waMessageId))!.raw);
    expect(hook.entry[0].changes[0].value).toMatchObject({
      messaging_product: 'whatsapp',
      metadata: { phone_number_id: '106540352242922', display_phone_number: expect.any(String) },
      contacts: [{ profile: { name: 'Ana' }, wa_id: '15551234567' }],
      messages: [{ from: '15551234567', id: res.body.waMessageId, timestamp: expect.stringMatching(/^\d+$/), type: 'text', text: { body: 'Hi <b>there</b>' } }],
    });
    const image = await http.post('/sandbox/customers/15551234567/messages').send({ type: 'image', image: { id: '1', mime_type: 'image/jpeg', sha256: 'x' } }).expect(200);
    expect(image.body.delivered).toBe(true);
    await http.post('/sandbox/customers/not-a-number/messages').send({ text: 'x' }).expect(400);
    await http.post('/sandbox/customers/15551234567/messages').send({ text: '' }).expect(400);
    const burst = await http.post('/sandbox/scenarios/burst').send({ customers: 20, phoneNumberId: '106540352242922' }).expect(200);
    expect(burst.body).toEqual({ customers: 20, delivered: 20 });
  });

  it('injects faults: scripted 5xx/timeout-free codes for one recipient, then normal again', async () => {
    await http.post('/sandbox/faults').send({ script: [{ to: '15559990001', fault: '5xx' }, { to: '15559990001', fault: 131026 }] }).expect(200);
    const a = await sendText('106540352242924', 15559990001).expect(500);
    expect(a.body.error.code).toBe(131000);
    const b = await sendText('106540352242924', 15559990001).expect(400);
    expect(b.body.error.code).toBe(131026);
    await sendText('106540352242924', 15559990001).expect(200);
    await http.post('/sandbox/faults').send({ share: { bogus: 1 } }).expect(400);
    await http.delete('/sandbox/faults').expect(200);
  });

  it('serves the customer phone page, labelled as a sandbox, with the business number escaped', async () => {
    const page = await http.get('/sandbox').expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('SANDBOX');
    expect(page.text).not.toMatch(/innerHTML/);
  });
});
