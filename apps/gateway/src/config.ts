import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const GatewayConfigSchema = BaseConfigSchema.extend({
  /** Where the gateway listens for the API, the webhook and the web client. */
  PORT: portSetting(3000),
  HOST: z.string().default('0.0.0.0'),
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
