/**
 * Error codes carried over the bus and mapped to HTTP by the gateway (one table, here).
 * A handler replies `{ ok: false, error: { code, message } }`; never a stack trace.
 */
export const ERROR_CODES = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  TIMEOUT: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export type WireReply<T> = { ok: true; data: T } | { ok: false; error: WireError };

export function httpStatusOf(code: string): number {
  return (ERROR_CODES as Record<string, number>)[code] ?? 500;
}
