import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const RoutingConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3002),
});
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;
