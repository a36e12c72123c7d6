import { Inject, Injectable } from '@nestjs/common';
import { Bus, NumberCredentialsLookup } from '@app/messaging';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';

/** A number's credentials from the gateway's registry, else WHATSAPP_NUMBER_TOKENS / WHATSAPP_ACCESS_TOKEN and GRAPH_API_VERSION. */
@Injectable()
export class NumberCredentialsCache extends NumberCredentialsLookup {
  constructor(@Inject(NOTIFICATIONS_CONFIG) cfg: NotificationsConfig, bus: Bus) {
    super(bus, (phoneNumberId) => ({
      accessToken: (phoneNumberId && cfg.WHATSAPP_NUMBER_TOKENS[phoneNumberId]) || cfg.WHATSAPP_ACCESS_TOKEN,
      graphApiVersion: cfg.GRAPH_API_VERSION,
    }));
  }
}
