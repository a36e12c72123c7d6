import { BadRequestException } from '@nestjs/common';

/** One rule for every route that sends: 1–150 visible ASCII characters, reused by the client on retry. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,150}$/;

export function requireIdempotencyKey(key: string | undefined): string {
  if (!key || !IDEMPOTENCY_KEY.test(key))
    throw new BadRequestException('Idempotency-Key header is required (1-150 visible ASCII characters); reuse it when retrying the same message');
  return key;
}
