import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RequestContract, WireReply } from '@app/contracts';
import type { RequestHandler } from './bus';
import { runWithContext } from './context';
import { BusError, isDependencyUnavailable } from './errors';

/**
 * Runs a responder on one raw request (JSON text) and builds the wire reply, exactly as a reply travels over the
 * broker: invalid input → VALIDATION, domain errors as their codes, a database outage → UNAVAILABLE, anything else
 * → INTERNAL with an error id that is logged.
 */
export async function answerRequest<C extends RequestContract>(
  contract: C,
  handler: RequestHandler<C>,
  raw: string,
  ctx: { service: string; correlationId: string; log: Logger },
): Promise<WireReply<unknown>> {
  return runWithContext({ correlationId: ctx.correlationId }, async () => {
    try {
      const parsed = contract.request.safeParse(JSON.parse(raw));
      if (!parsed.success) {
        return { ok: false, error: { code: 'VALIDATION', message: 'invalid request', details: parsed.error.issues } };
      }
      return { ok: true, data: contract.response.parse(await handler(parsed.data)) };
    } catch (err) {
      if (err instanceof BusError) return { ok: false, error: err.toWire() };
      if (isDependencyUnavailable(err)) {
        ctx.log.warn(`handler for ${contract.subject}: a dependency is unavailable: ${(err as Error).message}`);
        return { ok: false, error: { code: 'UNAVAILABLE', message: `${ctx.service}: its database is unavailable; retry later` } };
      }
      const errorId = randomUUID();
      ctx.log.error(`handler for ${contract.subject} failed (errorId ${errorId}): ${(err as Error)?.stack ?? err}`);
      return { ok: false, error: { code: 'INTERNAL', message: `internal error (errorId ${errorId})` } };
    }
  });
}
