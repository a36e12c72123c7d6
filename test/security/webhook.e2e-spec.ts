import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WhatsAppWebhookService, VERIFY_MAX_FAILURES, VERIFY_WINDOW_MS } from '../../apps/gateway/src/webhooks/whatsapp/whatsapp-webhook.service';
import { sign } from '../../apps/gateway/src/webhooks/whatsapp/signature';
import { waitFor } from '@app/testing';
import { webhookFixtures } from '../support/fixtures';
import { textWebhook } from '../support/webhooks';
import { APP_SECRET, Stack, VERIFY_TOKEN } from '../support/stack';

/**
 * The WhatsApp webhook as an attacker on the internet sees it: gateway + ingest on real PostgreSQL and NATS.
 * See docs/SECURITY.md for what each case proves.
 */
describe('security: the WhatsApp webhook (gateway + ingest)', () => {
  let s: Stack;
  const fixture = webhookFixtures().find((f) => f.name === 'messages/messages-text-real-capture')!.raw;
  const receipts = async () => (await s.sql(`SELECT count(*)::int AS n FROM gateway.webhook_receipt`))[0].n as number;
  const messagesOf = async (wamid: string) => (await s.sql(`SELECT count(*)::int AS n FROM ingest.message WHERE wa_message_id = $1`, [wamid]))[0].n as number;

  /** A local server standing for an internal address a payload could point at; it counts every request. */
  let canary: http.Server;
  let canaryHits = 0;
  let canaryUrl = '';

  beforeAll(async () => {
    s = await Stack.start({ GRAPH_API_BASE_URL: 'http://127.0.0.1:9', WHATSAPP_ACCESS_TOKEN: 'graph-token-xyz', WEBHOOK_MAX_BYTES: String(64 * 1024) });
    canary = http.createServer((_req, res) => {
      canaryHits++;
      res.end('internal');
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    canary?.close();
    await s?.stop();
  });

  describe('signature', () => {
    it.each([
      ['missing', null],
      ['empty', ''],
      ['wrong hex', `sha256=${'ab'.repeat(32)}`],
      ['signed with another secret', sign(fixture, 'attacker-secret')],
      ['sha1 instead of sha256', 'sha1=' + 'ab'.repeat(20)],
      ['truncated', sign(fixture, APP_SECRET).slice(0, 40)],
      ['of the body with a trailing newline', sign(`${fixture}\n`, APP_SECRET)],
    ])('%s signature → 401, nothing stored', async (_what, signature) => {
      const before = await receipts();
      await s.webhook(fixture, signature).expect(401);
      expect(await receipts()).toBe(before);
    });

    it('a captured signature does not sign another body (replayed header on new bytes → 401)', async () => {
      const wamid = `wamid.${randomUUID()}`;
      const genuine = textWebhook({ phoneNumberId: '1555000301', from: '4915300000001', text: 'genuine', wamid });
      const forged = genuine.replace('genuine', 'forged!');
      await s.webhook(forged, sign(genuine, APP_SECRET)).expect(401);
    });

    it('a replayed webhook (same bytes, same valid signature, 5 times) stores one message', async () => {
      const wamid = `wamid.${randomUUID()}`;
      const raw = textWebhook({ phoneNumberId: '1555000301', from: '4915300000002', text: 'once', wamid });
      for (let i = 0; i < 5; i++) await s.webhook(raw).expect(200);
      await waitFor(async () => (await messagesOf(wamid)) === 1, { what: 'the message stored', timeoutMs: 30_000 });
      await waitFor(
        async () => (await s.sql(`SELECT count(*)::int AS n FROM ingest.processed_event WHERE consumer = 'ingest-webhooks'`))[0].n >= 5,
        { what: 'every replay handled', timeoutMs: 30_000 },
      );
      expect(await messagesOf(wamid)).toBe(1);
    }, 90_000);

    it('an empty body with a valid signature → 400, nothing stored', async () => {
      const before = await receipts();
      const r = await s.webhook('', sign('', APP_SECRET)).expect(400);
      expect(r.body.message).toMatch(/empty body/);
      expect(await receipts()).toBe(before);
    });
  });

  describe('verify token', () => {
    it('answers the right token; after too many wrong ones from an address, refuses even the right one (429)', async () => {
      const svc = s.gateway.get(WhatsAppWebhookService);
      let now = Date.now();
      svc.now = () => now;
      const handshake = (token: string) =>
        s.http().get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '8899' });
      expect((await handshake(VERIFY_TOKEN).expect(200)).text).toBe('8899');
      for (let i = 0; i < VERIFY_MAX_FAILURES; i++) await handshake(`guess-${i}`).expect(403);
      const refused = await handshake(VERIFY_TOKEN).expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.text).not.toContain('8899');
      now += VERIFY_WINDOW_MS; // the window passes: the address may try again
      expect((await handshake(VERIFY_TOKEN).expect(200)).text).toBe('8899');
    });
  });

  describe('size', () => {
    it('a body over WEBHOOK_MAX_BYTES → 413 with a message, nothing stored', async () => {
      const before = await receipts();
      const raw = textWebhook({ phoneNumberId: '1555000301', from: '4915300000003', text: 'x'.repeat(70 * 1024) });
      const r = await s.webhook(raw).expect(413);
      expect(r.body).toMatchObject({ statusCode: 413, message: expect.any(String) });
      expect(await receipts()).toBe(before);
    });

    it('an API body over the JSON limit → 413, not 500', async () => {
      const r = await s.http().post('/api/v1/auth/login').set('Content-Type', 'application/json').send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(2 * 1024 * 1024) }));
      expect(r.status).toBe(413);
    });
  });

  describe('SSRF through media', () => {
    it('never contacts a URL carried in a payload (image.url pointing at an internal address)', async () => {
      const wamid = `wamid.${randomUUID()}`;
      const raw = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '1', changes: [{ field: 'messages', value: {
          messaging_product: 'whatsapp', metadata: { display_phone_number: '1555000302', phone_number_id: '1555000302' },
          contacts: [{ profile: { name: 'x' }, wa_id: '4915300000004' }],
          messages: [{ from: '4915300000004', id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: 'image',
            image: { id: '998877', mime_type: 'image/jpeg', sha256: 'x', url: `${canaryUrl}/admin?steal=1`, link: `${canaryUrl}/link` } }],
        } }] }],
      });
      await s.webhook(raw).expect(200);
      await waitFor(async () => (await messagesOf(wamid)) === 1, { what: 'image message stored', timeoutMs: 30_000 });
      // the media worker runs and fails against the (unreachable) Graph host; it must never try the payload URL
      await waitFor(async () => (await s.sql(`SELECT attempts FROM ingest.media m JOIN ingest.message g ON g.id = m.message_id WHERE g.wa_message_id = $1`, [wamid]))[0]?.attempts >= 1, {
        what: 'a download attempt',
        timeoutMs: 30_000,
      });
      expect(canaryHits).toBe(0);
    }, 90_000);
  });
});
