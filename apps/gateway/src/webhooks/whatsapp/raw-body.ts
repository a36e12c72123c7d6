import { Logger, type INestApplication } from '@nestjs/common';
import express, { type Request, type Response, type NextFunction } from 'express';
import { AllExceptionsFilter, counter } from '@app/platform';
import { WhatsAppWebhookService } from './whatsapp-webhook.service';

export const WHATSAPP_WEBHOOK_PATH = '/webhooks/whatsapp';
const outcomes = counter('switchboard_webhooks_total', 'WhatsApp webhook POSTs by outcome', ['outcome']);
const log = new Logger('WhatsAppWebhook');

/**
 * The webhook needs the exact bytes Meta signed, whatever the content type, so its body is read raw before
 * Nest's JSON parser (which skips a body already read). Must run before `app.init()`.
 *
 * The POST itself is then answered right here, ahead of Nest's router: it is the one route taken at Meta's rate
 * (up to 1,000/s per replica), and it needs none of what Nest adds per request (CORS, the web-client fallback,
 * the API rate-limit guard, validation pipes, parameter decorators); the platform's request-id/metrics
 * middleware still runs before it. Same answers as every route: the service's HttpExceptions and errors through
 * the platform's exception mapping (400/401 with a message, 503 + Retry-After). The GET handshake stays with
 * the controller. A body over `maxBytes` is refused 413 by the platform's mapping as before; it is counted
 * (`switchboard_webhooks_total{outcome="too_large"}`) and logged with its size here, never stored (it was never read
 * whole, and its signature cannot be checked).
 */
export function useWebhookRawBody(app: INestApplication, maxBytes: number): void {
  app.use(WHATSAPP_WEBHOOK_PATH, express.raw({ type: () => true, limit: maxBytes }));
  // an error middleware: costs nothing on the way of a body that was read
  app.use(WHATSAPP_WEBHOOK_PATH, (err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const e = err as { type?: string; length?: number; received?: number; limit?: number };
    if (e?.type === 'entity.too.large') {
      outcomes.inc({ outcome: 'too_large' });
      const size = e.length !== undefined ? `${e.length} bytes declared` : `over ${e.received ?? e.limit} bytes read`;
      log.warn(`webhook refused (413, not stored): body of ${size}, limit ${e.limit ?? maxBytes} bytes`);
    }
    next(err);
  });
  const webhooks = app.get(WhatsAppWebhookService);
  const errors = new AllExceptionsFilter();
  app.use(WHATSAPP_WEBHOOK_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || (req.path !== '/' && req.path !== '')) return next();
    // no Nest route matches (next() is never called), so name the route for the platform's HTTP metric, which
    // labels a request `${req.baseUrl}${req.route.path}`: '/webhooks/whatsapp' rather than '…unmatched'
    req.route = { path: '' };
    const raw = Buffer.isBuffer(req.body) ? req.body : undefined;
    webhooks.receive(raw, req.header('x-hub-signature-256')).then(
      ({ receiptId }) => answer(res, 200, { received: true, receiptId }),
      (err: unknown) => {
        const body = errors.toBody(err);
        if (body.statusCode === 503) res.setHeader('Retry-After', '5');
        answer(res, body.statusCode, body);
      },
    );
  });
}

/** A JSON answer written directly (no ETag hashing or content negotiation: nobody caches a webhook answer). */
function answer(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
