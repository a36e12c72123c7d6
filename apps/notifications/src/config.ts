import { z } from 'zod';
import { BaseConfigSchema, boolSetting, portSetting } from '@app/config';

const list = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
/** `id=value,id=value` → map. */
const pairs = z
  .string()
  .default('')
  .transform((s) =>
    Object.fromEntries(
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .map((x) => [x.slice(0, x.indexOf('=')).trim(), x.slice(x.indexOf('=') + 1).trim()]),
    ),
  );

export const NotificationsConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3004),
  /** Graph API (the sandbox by default: `npm start` runs it on 3005). */
  GRAPH_API_BASE_URL: z.string().url().default('http://127.0.0.1:3005'),
  GRAPH_API_VERSION: z.string().regex(/^v\d{1,3}\.\d$/, 'like v23.0').default('v23.0'),
  /** Bearer token for every number (a system-user token). Required in production; `sandbox-token` otherwise. */
  WHATSAPP_ACCESS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
  /** Per-number tokens overriding it: `phoneNumberId=token,…`. */
  WHATSAPP_NUMBER_TOKENS: pairs,
  /** WABAs whose templates are synced (`GET /{version}/{waba-id}/message_templates`). */
  WHATSAPP_WABA_IDS: list,
  GRAPH_API_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Sends per second per business number, shared by all replicas (Meta default 80). */
  OUTBOUND_RATE_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(80),
  /** Per-number overrides: `phoneNumberId=1000,…` (upgraded numbers; 20 for coexistence). */
  OUTBOUND_RATE_OVERRIDES: pairs,
  /** One message per (number, recipient) per this interval (Meta's pair limit ≈ 1 / 6 s). 0 = off. */
  OUTBOUND_PAIR_INTERVAL_MS: z.coerce.number().int().min(0).max(600_000).default(6_000),
  OUTBOUND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  OUTBOUND_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(1_000),
  OUTBOUND_RETRY_MAX_MS: z.coerce.number().int().min(1).max(3_600_000).default(300_000),
  /** A Graph call that timed out may have been sent: `fail` = record it failed, never re-send (default); `retry` = re-send (may duplicate). */
  OUTBOUND_ON_TIMEOUT: z.enum(['fail', 'retry']).default('fail'),
  /** How long a replica owns a claimed send; a crashed replica's sends are recovered after it. */
  OUTBOUND_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** Run the sender loop in this replica (false = it only answers send requests; e.g. API-only replicas). */
  OUTBOUND_SENDER: boolSetting.default('true'),
  OUTBOUND_POLL_MS: z.coerce.number().int().min(5).max(10_000).default(50),
  /** Refuse free-form messages outside the 24 h customer-service window. */
  OUTBOUND_WINDOW_ENFORCE: boolSetting.default('true'),
  /** Mark-as-read / typing indicator calls (notifications.mark-read.v1). */
  OUTBOUND_MARK_READ: boolSetting.default('true'),
  TEMPLATE_SYNC_INTERVAL_MS: z.coerce.number().int().min(1_000).default(600_000),
}).transform((cfg, ctx) => {
  if (!cfg.WHATSAPP_ACCESS_TOKEN && cfg.NODE_ENV === 'production') {
    ctx.addIssue({ code: 'custom', path: ['WHATSAPP_ACCESS_TOKEN'], message: 'is required in production' });
    return z.NEVER;
  }
  const wabas = cfg.WHATSAPP_WABA_IDS.length || cfg.NODE_ENV === 'production' ? cfg.WHATSAPP_WABA_IDS : ['100000000000001'];
  return { ...cfg, WHATSAPP_ACCESS_TOKEN: cfg.WHATSAPP_ACCESS_TOKEN ?? 'sandbox-token', WHATSAPP_WABA_IDS: wabas };
}).refine((c) => c.OUTBOUND_LEASE_MS > c.GRAPH_API_TIMEOUT_MS + 1_000, {
  // a lease shorter than a Graph call lets recovery declare a send lost while the call is still running
  message: 'must be longer than GRAPH_API_TIMEOUT_MS + 1000',
  path: ['OUTBOUND_LEASE_MS'],
});
export type NotificationsConfig = z.infer<typeof NotificationsConfigSchema>;
export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');
