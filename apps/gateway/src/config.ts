import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

const list = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const GatewayConfigSchema = BaseConfigSchema.extend({
  /** Where the gateway listens for the API, the webhook and the web client. */
  PORT: portSetting(3000),
  HOST: z.string().default('0.0.0.0'),
  /** App secrets of the Meta apps whose webhooks we accept (comma-separated; one per app). */
  WHATSAPP_APP_SECRET: list,
  /** Verify tokens typed into the Meta App Dashboard for the subscription handshake (comma-separated). */
  WHATSAPP_VERIFY_TOKEN: list,
  /** Largest webhook body accepted (Meta documents up to ~3 MB). */
  WEBHOOK_MAX_BYTES: z.coerce.number().int().min(1024).default(3 * 1024 * 1024),
  /** Integrator API keys for the read API until user authentication lands (comma-separated). */
  API_KEYS: list,
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
