import { Inject, Injectable } from '@nestjs/common';
import { GetNumberCredentialsV1 } from '@app/contracts';
import { Bus, BusError } from '@app/messaging';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';

export interface NumberCredentials {
  accessToken: string;
  graphApiVersion: string;
  /** false: the number, its WABA or its app is disabled in the registry. */
  active: boolean;
  source: 'registry' | 'default';
}

const TTL_MS = 30_000;
const MISS_TTL_MS = 5_000;

/**
 * A number's Graph credentials: from the gateway's registry (`gateway.get-number-credentials.v1`), cached for
 * 30 s; a number the registry does not know — or a gateway that does not answer — uses the configured default
 * app (WHATSAPP_NUMBER_TOKENS / WHATSAPP_ACCESS_TOKEN, GRAPH_API_VERSION), re-asked after 5 s. Tokens stay in
 * memory only, never in logs.
 */
@Injectable()
export class NumberCredentialsCache {
  private readonly cache = new Map<string, { at: number; ttl: number; c: NumberCredentials }>();

  constructor(
    @Inject(NOTIFICATIONS_CONFIG) private readonly cfg: NotificationsConfig,
    private readonly bus: Bus,
  ) {}

  defaults(phoneNumberId?: string): NumberCredentials {
    return {
      accessToken: (phoneNumberId && this.cfg.WHATSAPP_NUMBER_TOKENS[phoneNumberId]) || this.cfg.WHATSAPP_ACCESS_TOKEN,
      graphApiVersion: this.cfg.GRAPH_API_VERSION,
      active: true,
      source: 'default',
    };
  }

  async of(phoneNumberId: string, now = Date.now()): Promise<NumberCredentials> {
    const hit = this.cache.get(phoneNumberId);
    if (hit && now - hit.at < hit.ttl) return hit.c;
    let entry: { ttl: number; c: NumberCredentials };
    try {
      const r = await this.bus.request(GetNumberCredentialsV1, { phoneNumberId });
      entry = { ttl: TTL_MS, c: { accessToken: r.accessToken, graphApiVersion: r.graphApiVersion, active: r.active, source: 'registry' } };
    } catch (err) {
      if (!(err instanceof BusError)) throw err;
      // not registered (NOT_FOUND), or the gateway is away: the configured default app
      entry = { ttl: MISS_TTL_MS, c: this.defaults(phoneNumberId) };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(phoneNumberId, { at: now, ...entry });
    return entry.c;
  }
}
