import type { ErrorCode, WireError } from '@app/contracts';

/** Base of every error that crosses the bus: it has a stable code the gateway maps to HTTP. */
export class BusError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** A domain rule said no. Throw these from services; the responder sends them back as codes. */
export class DomainError extends BusError {}
export class NotFoundError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('NOT_FOUND', message, details);
  }
}
export class ConflictError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('CONFLICT', message, details);
  }
}
export class ValidationError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('VALIDATION', message, details);
  }
}
export class ForbiddenError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('FORBIDDEN', message, details);
  }
}

/** The remote handler answered with an error. */
export class RemoteError extends BusError {
  constructor(
    readonly subject: string,
    error: WireError,
  ) {
    super(error.code, error.message, error.details);
  }
}

/** Nobody answered within the contract's timeout. */
export class UpstreamTimeoutError extends BusError {
  constructor(subject: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('TIMEOUT', `${serviceOf(subject)} did not answer within ${timeoutMs} ms`, undefined, options);
  }
}

/** No replica of the service is subscribed, or the broker itself is unreachable. */
export class UpstreamUnavailableError extends BusError {
  constructor(subject: string, reason: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', `${serviceOf(subject)} is unavailable (${reason})`, undefined, options);
  }
}

function serviceOf(subject: string): string {
  const parts = subject.split('.');
  // namespaced subjects look like <ns>.<service>.<verb>.v1
  return parts.length >= 4 ? parts[parts.length - 3] : parts[0];
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '53300']);
// TypeORM's "already released" errors follow a connection lost inside a transaction (seen when PostgreSQL restarts)
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connection is closed|Client has encountered a connection error|the database system is (starting up|shutting down)|Query runner already released|connection provided by a query runner was already released/i;

/**
 * True when an error means a dependency (PostgreSQL, the broker) is down or unreachable rather than that the
 * request was wrong: such errors answer 503 (retry later), not 500. Looks through TypeORM's `driverError`
 * and `cause` chains.
 */
export function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  return isDependencyUnavailable(e.driverError, depth + 1) || isDependencyUnavailable(e.cause, depth + 1);
}
