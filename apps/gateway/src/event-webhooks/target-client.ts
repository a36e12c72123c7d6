import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export type PostResult = { statusCode: number } | { error: string };

/**
 * POSTs a delivery to exactly the addresses the URL policy approved (a custom `lookup`, so DNS cannot answer
 * differently between the check and the connection), with a timeout for the whole exchange (not only between
 * bytes: a receiver trickling its answer must not hold the sender), without following redirects, reading at
 * most a little of the answer (only the status code is recorded).
 */
export function postPinned(
  url: URL,
  addresses: { address: string; family: number }[],
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  const lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
    else cb(null, addresses[0].address, addresses[0].family);
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: PostResult) => {
      if (!done) {
        done = true;
        clearTimeout(deadline);
        resolve(r);
      }
    };
    const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, timeout: timeoutMs }, (res) => {
      let read = 0;
      res.on('data', (c: Buffer) => {
        read += c.length;
        if (read > 64 * 1024) res.destroy();
      });
      res.on('end', () => finish({ statusCode: res.statusCode ?? 0 }));
      res.on('close', () => finish({ statusCode: res.statusCode ?? 0 }));
      res.on('error', () => finish({ statusCode: res.statusCode ?? 0 }));
    });
    const giveUp = () => {
      finish({ error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    };
    const deadline = setTimeout(giveUp, timeoutMs);
    req.on('timeout', giveUp);
    req.on('error', (err: Error & { code?: string }) => finish({ error: err.code ?? err.message }));
    req.end(body);
  });
}
