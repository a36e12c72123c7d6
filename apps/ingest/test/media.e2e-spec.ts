import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { GetMediaChunkV1, ListMessagesV1 } from '@app/contracts';
import { waitFor } from '@app/testing';
import { IngestHarness } from './ingest-harness';

/** A tiny HTTP server on port 0 that records every request it gets. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, hits: string[]) => void) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    handler(req, res, hits);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, hits, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const TOKEN = 'test-access-token';
const bytes = (id: string) => Buffer.from(`fake media bytes of ${id}`.repeat(50));
const sha = (b: Buffer, enc: 'hex' | 'base64') => createHash('sha256').update(b).digest(enc);

function imageWebhook(id: string, mediaId: string, sha256: string, url: string): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550000000', phone_number_id: 'PN-MEDIA' },
      contacts: [{ profile: { name: 'M' }, wa_id: '15551110000' }],
      messages: [{ from: '15551110000', id, timestamp: '1750000000', type: 'image',
        image: { id: mediaId, mime_type: 'image/jpeg', sha256, url } }],
    } }] }],
  });
}

describe('ingest: media download through the Graph API (local fake) on real PostgreSQL and JetStream', () => {
  let h: IngestHarness;
  let graph: Awaited<ReturnType<typeof serve>>;
  let evil: Awaited<ReturnType<typeof serve>>;
  let mediaDir: string;
  let flakyFailures = 2;

  beforeAll(async () => {
    evil = await serve((_req, res) => res.end('you should never see this'));
    graph = await serve((req, res) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.statusCode = 401;
        return res.end('{}');
      }
      const lookup = /^\/v23\.0\/([^/?]+)$/.exec(req.url ?? '');
      const download = /^\/files\/([^/?]+)$/.exec(req.url ?? '');
      const self = `http://127.0.0.1:${graph.port}`;
      if (lookup) {
        const id = decodeURIComponent(lookup[1]);
        if (id === 'flaky' && flakyFailures-- > 0) {
          res.statusCode = 500;
          return res.end('{"error":{"message":"try later"}}');
        }
        // the evil id answers with a URL on a host that is not configured
        const url = id === 'evil' ? `http://127.0.0.1:${evil.port}/steal` : `${self}/files/${id}`;
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ url, mime_type: 'image/jpeg', sha256: sha(bytes(id), 'hex'), file_size: bytes(id).length, id, messaging_product: 'whatsapp' }));
      }
      if (download && download[1] === 'bounce') {
        // an allowed host redirecting to one that is not configured (the token would go along)
        res.statusCode = 302;
        res.setHeader('location', `http://127.0.0.1:${evil.port}/steal`);
        return res.end();
      }
      if (download) {
        res.setHeader('content-type', 'image/jpeg');
        return res.end(bytes(decodeURIComponent(download[1])));
      }
      res.statusCode = 404;
      res.end('{}');
    });
    h = await IngestHarness.start({
      WHATSAPP_ACCESS_TOKEN: TOKEN,
      GRAPH_API_BASE_URL: `http://127.0.0.1:${graph.port}`,
      GRAPH_API_VERSION: 'v23.0',
      GRAPH_MEDIA_HOSTS: 'lookaside.fbsbx.com',
      MEDIA_RETRY_BASE_MS: '50',
      MEDIA_SWEEP_INTERVAL_MS: '100',
      MEDIA_MAX_ATTEMPTS: '4',
    });
    mediaDir = h.env.env.MEDIA_DIR;
  });
  afterAll(async () => {
    await h?.stop();
    await graph?.close();
    await evil?.close();
  });

  const mediaOf = async (wamid: string) => {
    const [row] = await h.sql(
      `SELECT m.id, m.conversation_id, md.state, md.sha256, md.size, md.mime_type, md.storage_key, md.attempts, md.last_error
       FROM ingest.message m JOIN ingest.media md ON md.message_id = m.id WHERE m.wa_message_id = $1`,
      [wamid],
    );
    return row;
  };

  it('looks the media up by id, downloads it with the token, verifies sha256 and stores it', async () => {
    const data = bytes('good1');
    // the payload's own url points at the foreign host: it must not be used
    await h.webhook(imageWebhook('wamid.media-ok', 'good1', sha(data, 'base64'), `http://127.0.0.1:${evil.port}/payload-url`));
    const m = await waitFor(async () => {
      const r = await mediaOf('wamid.media-ok');
      return r?.state === 'stored' ? r : undefined;
    }, { what: 'media stored' });
    expect(m).toMatchObject({ sha256: sha(data, 'hex'), mime_type: 'image/jpeg', attempts: 1, last_error: null });
    expect(Number(m.size)).toBe(data.length);
    expect(await readFile(path.join(mediaDir, m.storage_key))).toEqual(data);
    expect(graph.hits).toContain(`GET /v23.0/good1 Bearer ${TOKEN}`);
    expect(graph.hits).toContain(`GET /files/good1 Bearer ${TOKEN}`);

    const page = await h.peer.request(ListMessagesV1, { conversationId: m.conversation_id, limit: 10 });
    expect(page.items[0].media).toEqual({
      mediaId: 'good1', mimeType: 'image/jpeg', size: data.length, sha256: sha(data, 'hex'), state: 'stored', url: `/api/v1/media/${m.id}`,
    });

    // the gateway reads it back in chunks over the bus: the pieces make the exact file
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < data.length; ) {
      const c = await h.peer.request(GetMediaChunkV1, { messageId: m.id, offset, length: 100 });
      expect(c).toMatchObject({ conversationId: m.conversation_id, mimeType: 'image/jpeg', size: data.length, sha256: sha(data, 'hex'), offset });
      const piece = Buffer.from(c.data, 'base64');
      expect(piece.length).toBeGreaterThan(0);
      pieces.push(piece);
      offset += piece.length;
    }
    expect(Buffer.concat(pieces)).toEqual(data);
    await expect(h.peer.request(GetMediaChunkV1, { messageId: randomUUID() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('never fetches a host that is not configured (payload url or a Graph answer pointing elsewhere)', async () => {
    await h.webhook(imageWebhook('wamid.media-evil', 'evil', 'irrelevant', `http://127.0.0.1:${evil.port}/payload-url`));
    const m = await waitFor(async () => {
      const r = await mediaOf('wamid.media-evil');
      return r?.state === 'failed' ? r : undefined;
    }, { what: 'media refused' });
    expect(m.last_error).toMatch(/not the Graph API host or a configured media host/);
    expect(m.attempts).toBe(1); // not retried: retrying cannot help
    expect(evil.hits).toEqual([]);
  });

  it('never follows a redirect from an allowed host to one that is not configured (nor sends it the token)', async () => {
    await h.webhook(imageWebhook('wamid.media-bounce', 'bounce', 'irrelevant', ''));
    const m = await waitFor(async () => {
      const r = await mediaOf('wamid.media-bounce');
      return r?.state === 'failed' ? r : undefined;
    }, { what: 'media refused' });
    expect(graph.hits).toContain(`GET /files/bounce Bearer ${TOKEN}`);
    expect(m.last_error).toMatch(/refusing to contact a host that is not configured/);
    expect(m.attempts).toBe(1); // not retried: retrying cannot help
    expect(evil.hits).toEqual([]);
  });

  it('retries with backoff when the Graph API fails, then stores', async () => {
    await h.webhook(imageWebhook('wamid.media-flaky', 'flaky', sha(bytes('flaky'), 'base64'), ''));
    const m = await waitFor(async () => {
      const r = await mediaOf('wamid.media-flaky');
      return r?.state === 'stored' ? r : undefined;
    }, { what: 'flaky media stored' });
    expect(m.attempts).toBe(3);
    expect(graph.hits.filter((x) => x.startsWith('GET /v23.0/flaky')).length).toBe(3);
  });

  it('marks media failed after the last attempt when the checksum never matches', async () => {
    await h.webhook(imageWebhook('wamid.media-badsha', 'badsha', 'AAAA', ''));
    const m = await waitFor(async () => {
      const r = await mediaOf('wamid.media-badsha');
      return r?.state === 'failed' ? r : undefined;
    }, { what: 'media failed', timeoutMs: 15_000 });
    expect(m).toMatchObject({ attempts: 4, last_error: 'sha256 of the download does not match the webhook' });
  });
});
