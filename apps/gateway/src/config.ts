import { z } from 'zod';
import { BaseConfigSchema, boolSetting, portSetting } from '@app/config';

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
  /** First admin, created on first start when no admin exists (password at least 12 characters). */
  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  /** Seed a clearly labelled demo organisation (teams Sales/Support/After-sales, a manager, four agents). */
  SEED_DEMO: boolSetting.default(false),
  /** The business number the demo maps to the Sales team (the sandbox's default number). */
  DEMO_PHONE_NUMBER_ID: z.string().regex(/^\d{1,32}$/).default('106540352242922'),
  /** Password of the demo users (demo only). */
  DEMO_PASSWORD: z.string().min(8).default('switchboard-demo'),
  ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(30).default(900),
  REFRESH_TOKEN_TTL_S: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  /** Failed logins per email (and 4× that per IP) within LOGIN_WINDOW_S before further attempts get 429. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_WINDOW_S: z.coerce.number().int().min(1).default(900),
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
