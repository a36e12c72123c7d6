import { HttpException, Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

export interface ConnectionReport {
  ok: true;
  phoneNumberId: string;
  verifiedName: string | null;
  displayPhoneNumber: string | null;
  qualityRating: string | null;
  messagingLimit: string | null;
  testedAt: string;
}

/** Management-call errors in words (REFERENCE §4.5); the code and Meta's own message are kept in details. */
const WORDS: Record<number, string> = {
  0: 'Meta rejected the access token (expired or invalidated): paste a new system-user token into the app.',
  190: 'Meta says the access token is expired or invalid: paste a new system-user token into the app.',
  100: 'Meta does not know this phone number id, or the token has no access to it: check the phone number id and the WABA it belongs to.',
  3: 'The Meta app lacks the capability for this call: check the app configuration in the Meta App Dashboard.',
  10: 'The token lacks the permission for this call: grant whatsapp_business_management to the system user.',
  4: 'Meta is rate-limiting this app: try again in a few minutes.',
  80007: 'The WhatsApp Business Account hit its rate limit: try again in a few minutes.',
};
const words = (code: number | null, status: number) =>
  (code !== null && WORDS[code]) ||
  (code !== null && code >= 200 && code < 300 ? WORDS[10] : null) ||
  (status >= 500 ? 'The Graph API had an internal error: try again later.' : 'Meta refused the request.');

/**
 * "Test connection": reads the number from the Graph API with the app's access token. Meta's refusals become
 * 422 (Meta's code and message in `details`, a sentence in `message`); an unreachable or silent Graph API
 * becomes 424. The token goes only into the Authorization header, never into errors or logs.
 */
@Injectable()
export class GraphProbe {
  constructor(@Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig) {}

  get defaultVersion(): string {
    return this.cfg.GRAPH_API_VERSION;
  }

  async phoneNumber(phoneNumberId: string, version: string, token: string, now = new Date()): Promise<ConnectionReport> {
    const fields = 'verified_name,display_phone_number,quality_rating,whatsapp_business_manager_messaging_limit,messaging_limit_tier';
    const url = `${this.cfg.GRAPH_API_BASE_URL.replace(/\/$/, '')}/${version}/${encodeURIComponent(phoneNumberId)}?fields=${fields}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(this.cfg.GRAPH_API_TIMEOUT_MS) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${this.cfg.GRAPH_API_TIMEOUT_MS} ms` : (e.cause?.code ?? e.name);
      throw new HttpException(
        { message: `The Graph API at ${new URL(url).origin} could not be reached (${why}); check GRAPH_API_BASE_URL and the network.`, details: { reason: why } },
        424,
      );
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, any>;
    if (!res.ok || body.error) {
      const e = (body.error ?? {}) as { code?: unknown; error_subcode?: unknown; message?: unknown; type?: unknown; fbtrace_id?: unknown };
      const code = typeof e.code === 'number' ? e.code : null;
      throw new HttpException(
        {
          message: `${words(code, res.status)} (Meta error ${code ?? `HTTP ${res.status}`}: ${typeof e.message === 'string' ? e.message : 'no message'})`,
          details: { graphStatus: res.status, code, subcode: e.error_subcode ?? null, type: e.type ?? null, metaMessage: e.message ?? null, fbtraceId: e.fbtrace_id ?? null },
        },
        422,
      );
    }
    const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
    return {
      ok: true,
      phoneNumberId,
      verifiedName: str(body.verified_name),
      displayPhoneNumber: str(body.display_phone_number),
      qualityRating: str(body.quality_rating),
      // REFERENCE §4.3: messaging_limit_tier is deprecated in favour of whatsapp_business_manager_messaging_limit
      messagingLimit: str(body.whatsapp_business_manager_messaging_limit) ?? str(body.messaging_limit_tier),
      testedAt: now.toISOString(),
    };
  }
}
