import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postPinned } from './target-client';

describe('event webhook target client', () => {
  let server: Server;
  let port: number;
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') return void res.end('fine');
      // a receiver that answers its headers at once, then drips its body a byte at a time, well past the timeout
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const t = setInterval(() => {
        if (++n >= 40 || res.destroyed) {
          clearInterval(t);
          res.end();
        } else res.write('.');
      }, 100);
      timers.push(t);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    timers.forEach(clearInterval);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const post = (path: string) =>
    postPinned(new URL(`http://receiver.test:${port}${path}`), [{ address: '127.0.0.1', family: 4 }], { 'content-type': 'application/json' }, '{}', 500);

  it('posts to the pinned address and reports the status code', async () => {
    expect(await post('/ok')).toEqual({ statusCode: 200 });
  });

  it('gives up after the timeout as a whole, even when the receiver keeps trickling bytes (one slow receiver must not hold the sender)', async () => {
    const r = await post('/drip');
    expect(r).toEqual({ error: expect.stringContaining('500 ms') });
  }, 30_000);
});
