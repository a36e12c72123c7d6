import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const RoutingConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3002),
  /** How often snoozed conversations whose time has come are reopened. */
  SNOOZE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(15_000),
  /** How often availability timeouts, offline owners, unanswered customers and queues are checked. */
  ROUTING_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(1_000),
  /** An online agent whose web clients show no activity for this long becomes `away`. */
  ROUTING_IDLE_AWAY_MS: z.coerce.number().int().min(1_000).default(10 * 60_000),
  /** An agent with no web client connected (or reported by a gateway) for this long becomes `offline`. */
  ROUTING_DISCONNECT_OFFLINE_MS: z.coerce.number().int().min(20_000).default(2 * 60_000),
});
export const ROUTING_CONFIG = Symbol('ROUTING_CONFIG');
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;
