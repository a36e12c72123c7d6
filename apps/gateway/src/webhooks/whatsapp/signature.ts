import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Which app secret signed these exact bytes (`X-Hub-Signature-256: sha256=<hex>`), or -1.
 * Constant-time per secret; computed on the raw body before any parsing.
 */
export function matchSignature(raw: Buffer, header: string | undefined, secrets: readonly string[]): number {
  if (!header) return -1;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return -1;
  const given = Buffer.from(m[1].toLowerCase(), 'hex');
  let found = -1;
  secrets.forEach((secret, i) => {
    const expected = createHmac('sha256', secret).update(raw).digest();
    if (timingSafeEqual(expected, given) && found < 0) found = i;
  });
  return found;
}

export function sign(raw: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}
