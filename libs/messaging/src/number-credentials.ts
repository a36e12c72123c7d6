import { GetNumberCredentialsV1 } from '@app/contracts';
import type { Bus } from './bus';
import { BusError } from './errors';

export interface NumberCredentials {
  accessToken: string;
  graphApiVersion: string;
  /** false: the number, its WABA or its app is disabled in the registry. */
  active: boolean;
  source: 'registry' | 'default';
}

/**
 * A business number's Graph API credentials for services that call Meta: asked of the gateway's registry
 * (`gateway.get-number-credentials.v1`) and cached for `ttlMs`; a number the registry does not know — or a
 * gateway that does not answer — gets the service's configured default app (`defaults`), asked again after
 * `missTtlMs`. Tokens stay in memory only, never in logs.
 */
export class NumberCredentialsLookup {
  private readonly cache = new Map<string, { at: number; ttl: number; c: NumberCredentials }>();

  constructor(
    private readonly bus: Bus,
    readonly defaults: (phoneNumberId?: string) => Omit<NumberCredentials, 'source' | 'active'>,
    private readonly ttlMs = 30_000,
    private readonly missTtlMs = 5_000,
  ) {}

  async of(phoneNumberId: string, now = Date.now()): Promise<NumberCredentials> {
    const hit = this.cache.get(phoneNumberId);
    if (hit && now - hit.at < hit.ttl) return hit.c;
    let entry: { ttl: number; c: NumberCredentials };
    // the registry only holds Meta's numeric ids
    if (!/^\d{1,32}$/.test(phoneNumberId)) return { ...this.defaults(phoneNumberId), active: true, source: 'default' };
    try {
      const r = await this.bus.request(GetNumberCredentialsV1, { phoneNumberId });
      entry = { ttl: this.ttlMs, c: { accessToken: r.accessToken, graphApiVersion: r.graphApiVersion, active: r.active, source: 'registry' } };
    } catch (err) {
      if (!(err instanceof BusError)) throw err;
      // not registered (NOT_FOUND), or the gateway is away: the configured default app
      entry = { ttl: this.missTtlMs, c: { ...this.defaults(phoneNumberId), active: true, source: 'default' } };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(phoneNumberId, { at: now, ...entry });
    return entry.c;
  }
}
