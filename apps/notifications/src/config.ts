import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const NotificationsConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3004),
});
export type NotificationsConfig = z.infer<typeof NotificationsConfigSchema>;
