import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const RoutingConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3002),
  /** How often snoozed conversations whose time has come are reopened. */
  SNOOZE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(15_000),
});
export const ROUTING_CONFIG = Symbol('ROUTING_CONFIG');
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;
