import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { INTEGRATOR_EVENT_TYPES } from '@app/contracts';
import { Stack } from '../support/stack';

/**
 * SSRF through outbound (event) webhook URLs: an admin — or a stolen admin token — must not be able to make the
 * gateway call internal addresses. Plain http is allowed for 127.0.0.1 here (as in development), private
 * addresses are not, so only the address rule stands between the URL and the local canary server.
 */
describe('security: event-webhook target URLs (gateway)', () => {
  let s: Stack;
  let canary: http.Server;
  let hits = 0;
  let port = 0;

  beforeAll(async () => {
    canary = http.createServer((_q, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    port = (canary.address() as AddressInfo).port;
    s = await Stack.start({ EVENT_WEBHOOK_HTTP_HOSTS: '127.0.0.1,localhost', EVENT_WEBHOOK_ALLOW_PRIVATE: 'false' });
  }, 60_000);
  afterAll(async () => {
    canary?.close();
    await s?.stop();
  });

  const create = (url: string) =>
    s.http().post('/api/v1/webhook-subscriptions').set(s.as('admin')).send({ url, eventTypes: [INTEGRATOR_EVENT_TYPES[0]] });

  it.each([
    ['loopback', () => `http://127.0.0.1:${port}/hook`, 'public-address'],
    ['localhost by name', () => `http://localhost:${port}/hook`, 'public-address'],
    ['IPv6 loopback', () => `https://[::1]:${port}/hook`, 'public-address'],
    ['decimal loopback', () => `https://2130706433:${port}/hook`, 'public-address'],
    ['hex loopback', () => `https://0x7f000001:${port}/hook`, 'public-address'],
    ['cloud metadata', () => 'https://169.254.169.254/latest/meta-data/', 'public-address'],
    ['private 10/8', () => 'https://10.0.0.1/hook', 'public-address'],
    ['private 192.168/16', () => 'https://192.168.1.1/hook', 'public-address'],
    ['IPv4-mapped IPv6', () => 'https://[::ffff:127.0.0.1]/hook', 'public-address'],
    ['plain http to another host', () => 'http://10.1.2.3/hook', 'https-only'],
    ['credentials in the URL', () => `https://user:pw@127.0.0.1:${port}/`, ''],
    ['file scheme', () => 'file:///etc/passwd', 'valid-url'],
    ['gopher scheme', () => 'gopher://127.0.0.1:25/', 'valid-url'],
  ])('refuses %s with 400 naming the rule, and calls nothing', async (_what, url, rule) => {
    const r = await create(url());
    expect(r.status).toBe(400);
    if (rule) expect(r.body.message).toContain(rule);
    expect(hits).toBe(0);
  });

  it('stores none of the refused subscriptions; a caller without a token is refused before any check', async () => {
    const list = await s.http().get('/api/v1/webhook-subscriptions').set(s.as('admin')).expect(200);
    expect(list.body.items ?? []).toEqual([]);
    await s.http().post('/api/v1/webhook-subscriptions').set('Authorization', 'Bearer sba_nope').send({ url: 'https://10.0.0.1/', eventTypes: [INTEGRATOR_EVENT_TYPES[0]] }).expect(401);
    expect(hits).toBe(0);
  });
});
