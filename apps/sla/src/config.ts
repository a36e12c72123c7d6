import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const SlaConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3003),
});
export type SlaConfig = z.infer<typeof SlaConfigSchema>;
