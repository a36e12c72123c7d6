import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const IngestConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3001),
});
export type IngestConfig = z.infer<typeof IngestConfigSchema>;
