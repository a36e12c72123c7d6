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

const secretKey = z.string().regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=$/, 'must be keyId:base64 of 32 bytes');

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
  /**
   * Origins (scheme://host[:port], comma-separated, exact match) whose browser pages may call the API cross-origin.
   * Empty (the default) = none: only the web client served by the gateway itself, and non-browser clients.
   */
  CORS_ORIGINS: list.pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each must be an origin like https://crm.example.com'))),
  /** The built web client served at `/` (vite build output); empty = dist/web under the working directory. */
  WEB_DIR: z.string().default(''),
  ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(30).default(900),
  REFRESH_TOKEN_TTL_S: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  /** Failed logins per email (and 4× that per IP) within LOGIN_WINDOW_S before further attempts get 429. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_WINDOW_S: z.coerce.number().int().min(1).default(900),
  /**
   * Key that encrypts stored secrets (Meta app secrets, tokens, webhook signing secrets): `keyId:base64-of-32-bytes`.
   * Production without it stores no secrets (503); outside production a fixed development key is used. See docs/INTEGRATIONS.md.
   */
  SECRETS_KEY: z.preprocess((v) => (v === '' ? undefined : v), secretKey.optional()),
  /** Previous keys (`keyId:base64,…`), still accepted for decryption while secrets are re-encrypted. */
  SECRETS_OLD_KEYS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(secretKey)),
  /** Graph API the "test connection" action calls (the sandbox by default). */
  GRAPH_API_BASE_URL: z.string().url().default('http://127.0.0.1:3005'),
  GRAPH_API_VERSION: z.string().regex(/^v\d{1,3}\.\d$/, 'like v23.0').default('v23.0'),
  GRAPH_API_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Run the event-webhook sender loop in this replica. */
  EVENT_WEBHOOK_SENDER: boolSetting.default('true'),
  EVENT_WEBHOOK_POLL_MS: z.coerce.number().int().min(5).max(60_000).default(500),
  /**
   * A new delivery waits this long before it may be sent, so that with several gateway replicas fanning out in
   * parallel an earlier event of the same conversation is stored first (order per conversation). 0 with one replica.
   */
  EVENT_WEBHOOK_SETTLE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  EVENT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** First retry after this, doubling per attempt up to EVENT_WEBHOOK_RETRY_MAX_MS, until EVENT_WEBHOOK_GIVE_UP_MS after the event. */
  EVENT_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(10_000),
  EVENT_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(1).default(3_600_000),
  EVENT_WEBHOOK_GIVE_UP_MS: z.coerce.number().int().min(1).default(24 * 3_600_000),
  /** A subscription is paused (and its admins told) after this many failed attempts in a row. */
  EVENT_WEBHOOK_PAUSE_AFTER: z.coerce.number().int().min(1).default(50),
  /** Hosts allowed over plain http (development), e.g. `localhost,127.0.0.1`. Everything else needs https. */
  EVENT_WEBHOOK_HTTP_HOSTS: list,
  /** Allow private, loopback and link-local target addresses (development only). */
  EVENT_WEBHOOK_ALLOW_PRIVATE: boolSetting.default('false'),
  /** Requests per minute per API key or user on /api/v1 (429 with Retry-After above it); 0 = off. Default 600 (off under NODE_ENV=test). */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).optional(),
  /** Attachment uploads handled at once per gateway replica (each may hold its file, up to 100 MB, in memory); over it 503 + Retry-After. */
  ATTACHMENT_UPLOADS_MAX_CONCURRENT: z.coerce.number().int().min(1).default(4),
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
