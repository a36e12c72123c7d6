import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { OutboxRelay } from '@app/persistence';
import { counter } from '@app/platform';
import { AppCredentials } from '../../whatsapp-accounts/app-credentials';
import { matchSignature } from './signature';
import { ReceiptGroupCommit } from './receipt-group-commit';
import { WebhookDeadLetter } from './webhook-dead-letter';

const webhooks = counter('switchboard_webhooks_total', 'WhatsApp webhook POSTs by outcome', ['outcome']);

/** Wrong verify tokens one address may try per window before every handshake from it is refused (429). */
export const VERIFY_MAX_FAILURES = 10;
export const VERIFY_WINDOW_MS = 15 * 60_000;
const VERIFY_TRACKED_ADDRESSES = 10_000;

/** Too many wrong verify tokens from one address: answered 429 with the seconds to wait. */
export class VerifyThrottledError extends HttpException {
  constructor(readonly retryAfterS: number) {
    super({ message: `too many wrong verify tokens; try again in ${retryAfterS} s` }, HttpStatus.TOO_MANY_REQUESTS);
  }
}

@Injectable()
export class WhatsAppWebhookService {
  private readonly log = new Logger('WhatsAppWebhook');
  /** Failed handshakes per client address (per replica; Meta's handshake is rare, guessing is not). */
  private readonly verifyFailures = new Map<string, { count: number; since: number }>();
  /** The clock of the verify throttle (tests move it). */
  now: () => number = Date.now;

  constructor(
    private readonly credentials: AppCredentials,
    private readonly receipts: ReceiptGroupCommit,
    private readonly relay: OutboxRelay,
    private readonly deadLetter: WebhookDeadLetter,
  ) {}

  /**
   * The subscription handshake: the challenge back as plain text when the token matches, else null (→ 403).
   * After VERIFY_MAX_FAILURES wrong tokens from one address within VERIFY_WINDOW_MS, every attempt from it is
   * refused with VerifyThrottledError before the token is compared, so the token cannot be brute-forced.
   */
  verifySubscription(mode: unknown, token: unknown, challenge: unknown, from = 'unknown'): string | null {
    const now = this.now();
    const seen = this.verifyFailures.get(from);
    if (seen && now - seen.since >= VERIFY_WINDOW_MS) this.verifyFailures.delete(from);
    else if (seen && seen.count >= VERIFY_MAX_FAILURES) throw new VerifyThrottledError(Math.ceil((seen.since + VERIFY_WINDOW_MS - now) / 1000));
    const answer = this.matchVerifyToken(mode, token, challenge);
    if (answer === null) {
      const f = this.verifyFailures.get(from) ?? { count: 0, since: now };
      f.count++;
      this.verifyFailures.delete(from); // re-insert: the map stays in least-recently-failed order
      this.verifyFailures.set(from, f);
      if (this.verifyFailures.size > VERIFY_TRACKED_ADDRESSES) this.verifyFailures.delete(this.verifyFailures.keys().next().value!);
      webhooks.inc({ outcome: 'bad_verify_token' });
    }
    return answer;
  }

  private matchVerifyToken(mode: unknown, token: unknown, challenge: unknown): string | null {
    if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string') return null;
    const tokenBuf = Buffer.from(token);
    const ok = this.credentials.verifyTokens().some((t) => {
      const b = Buffer.from(t);
      // constant time for equal lengths; length itself is not secret enough to matter
      return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
    });
    return ok ? challenge : null;
  }

  /**
   * Signature first (on the exact bytes), then a shallow shape check, then the durable insert (group-committed
   * with concurrent webhooks). Returns only after the receipt is committed in PostgreSQL; processing happens
   * later, from JetStream. A signed body refused by the shape check (400) is dead-lettered with its reason
   * (`gateway.webhook_rejected`) before the 400 is thrown; an unsigned one is only counted and logged.
   */
  async receive(raw: Buffer | undefined, signature: string | undefined): Promise<{ receiptId: string }> {
    const body = raw ?? Buffer.alloc(0);
    // the configured (default) app's secrets, then those of every active app in the registry
    const appIndex = matchSignature(body, signature, this.credentials.appSecrets());
    if (appIndex < 0) {
      webhooks.inc({ outcome: 'bad_signature' });
      this.log.warn(signature ? 'webhook refused: signature does not match any app secret' : 'webhook refused: no X-Hub-Signature-256');
      throw new UnauthorizedException(
        signature ? 'X-Hub-Signature-256 does not match the body for any configured app secret' : 'missing X-Hub-Signature-256 header',
      );
    }
    const text = body.toString('utf8');
    const refused = refusalOf(text);
    if (refused !== null) {
      webhooks.inc({ outcome: 'bad_body' });
      this.log.warn(`webhook refused: ${refused}`);
      await this.deadLetter.record(appIndex, HttpStatus.BAD_REQUEST, refused, body);
      throw new BadRequestException(refused);
    }
    const receiptId = randomUUID();
    try {
      await this.receipts.store({ id: receiptId, appIndex, body: text, byteLength: body.length });
    } catch (err) {
      webhooks.inc({ outcome: 'unavailable' });
      this.log.error(`webhook not stored (Meta will retry): ${(err as Error).message}`);
      throw new ServiceUnavailableException('the webhook could not be stored durably; retry later');
    }
    this.relay.kickSoon();
    webhooks.inc({ outcome: 'accepted' });
    return { receiptId };
  }
}

/** Why a body is not a WhatsApp webhook envelope (shallow: items are judged by ingest), or null when it is one. */
function refusalOf(text: string): string | null {
  if (text.trim() === '') return 'empty body';
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return 'body is not JSON';
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return 'body is not a JSON object';
  const env = o as { object?: unknown; entry?: unknown };
  if (env.object !== 'whatsapp_business_account') return 'not a WhatsApp Business Account webhook (object must be "whatsapp_business_account")';
  if (!Array.isArray(env.entry)) return 'webhook has no entry array';
  return null;
}
