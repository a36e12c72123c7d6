import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'Switchboard-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (docs/WEBHOOKS.md). */
export function signEvent(secret: string, timestampS: number, body: string): string {
  return `t=${timestampS},v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}
