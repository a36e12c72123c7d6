import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GetNumberCredentialsV1 } from '@app/contracts';
import { Bus, NotFoundError } from '@app/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { SecretBox } from '../secrets/secret-box';
import { AccountsRepository } from './accounts.repository';

const REFRESH_MS = 5_000;

/**
 * The secrets the gateway checks webhooks with: the configured ones (the "default app": WHATSAPP_APP_SECRET /
 * WHATSAPP_VERIFY_TOKEN) first, then those of every active app in the registry. Held in memory and reloaded
 * every few seconds (at once after a change in this replica), so the webhook's hot path never waits for a
 * query and keeps working with the last known secrets while the database is down.
 * Also answers `gateway.get-number-credentials.v1` for services that call the Graph API.
 */
@Injectable()
export class AppCredentials implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AppCredentials');
  private registered: { appSecrets: string[]; verifyTokens: string[] } = { appSecrets: [], verifyTokens: [] };
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
    private readonly ds: DataSource,
    private readonly accounts: AccountsRepository,
    private readonly box: SecretBox,
    private readonly bus: Bus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(GetNumberCredentialsV1, async ({ phoneNumberId }) => {
      const c = await this.accounts.credentials(this.ds.manager, phoneNumberId);
      if (!c) throw new NotFoundError(`phone number ${phoneNumberId} is not in the registry`);
      if (!c.accessTokenSealed) throw new NotFoundError(`the app of phone number ${phoneNumberId} has no access token`);
      return { phoneNumberId, wabaId: c.wabaId, graphApiVersion: c.graphApiVersion, accessToken: this.box.open(c.accessTokenSealed), active: c.active };
    });
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch((err) => this.log.warn(`app secrets not reloaded: ${(err as Error).message}`)), REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Configured app secrets first (their indexes stay what they were), then the registered apps'. */
  appSecrets(): string[] {
    return [...this.cfg.WHATSAPP_APP_SECRET, ...this.registered.appSecrets];
  }

  verifyTokens(): string[] {
    return [...this.cfg.WHATSAPP_VERIFY_TOKEN, ...this.registered.verifyTokens];
  }

  /** Re-reads the active apps' secrets (after a change, and every few seconds for other replicas' changes). */
  async reload(): Promise<void> {
    const appSecrets: string[] = [];
    const verifyTokens: string[] = [];
    for (const a of await this.accounts.activeAppSecrets(this.ds.manager)) {
      try {
        if (a.appSecret) appSecrets.push(this.box.open(a.appSecret));
        if (a.verifyToken) verifyTokens.push(this.box.open(a.verifyToken));
      } catch (err) {
        this.log.error(`secrets of app ${a.id} cannot be opened: ${(err as Error).message}`);
      }
    }
    this.registered = { appSecrets, verifyTokens };
  }
}
