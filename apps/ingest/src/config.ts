import { z } from 'zod';
import { BaseConfigSchema, boolSetting, portSetting } from '@app/config';

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL like https://graph.facebook.com');

export const IngestConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3001),
  /** Graph API base URL for media look-ups (the local sandbox by default). */
  GRAPH_API_BASE_URL: httpUrl.default('http://127.0.0.1:3005'),
  GRAPH_API_VERSION: z.string().regex(/^v\d+\.\d+$/, 'like v23.0').default('v23.0'),
  /** System-user access token; empty = media download disabled (media records show state `disabled`). */
  WHATSAPP_ACCESS_TOKEN: z.string().default(''),
  /** Where downloaded media is stored (LocalMediaStore). */
  MEDIA_DIR: z.string().min(1).default('./data/media'),
  /** Hosts (host or host:port) media may be downloaded from, besides the Graph API host. Comma-separated. */
  GRAPH_MEDIA_HOSTS: z
    .string()
    .default('lookaside.fbsbx.com')
    .transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)),
  /** Register an unknown phone_number_id as a business number (default: on except in production). */
  WHATSAPP_AUTO_REGISTER_NUMBERS: boolSetting.optional(),
  /** Media download retries: first delay (doubles per attempt) and attempts before `failed`. */
  MEDIA_RETRY_BASE_MS: z.coerce.number().int().min(10).default(5_000),
  MEDIA_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  MEDIA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(10).default(2_000),
  MEDIA_MAX_BYTES: z.coerce.number().int().min(1).default(100 * 1024 * 1024),
  /** Webhook receipts processed in parallel by one ingest replica. */
  INGEST_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * Receipts applied together in one transaction when they queue up (each of the INGEST_WEBHOOK_CONCURRENCY
   * transactions takes up to this many). 1 = one transaction per item, as before batching. A batch that fails
   * for any reason is rolled back and its receipts are re-applied one by one, item by item.
   */
  INGEST_WEBHOOK_BATCH_SIZE: z.coerce.number().int().min(1).max(64).default(16),
  /**
   * The process's CPU niceness (0 = normal, 19 = lowest). Ingest is a background consumer: on a host whose cores
   * it shares with the gateway (npm start, one machine), a burst of webhooks is then taken by the gateway first
   * (a 200 only needs the receipt stored) and ingest drains the backlog from JetStream with the CPU left over, and
   * after the burst. With a container of its own (Kubernetes) it competes with nothing and this changes nothing.
   */
  INGEST_NICE: z.coerce.number().int().min(0).max(19).default(10),
});
export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');

export function autoRegisterNumbers(cfg: IngestConfig): boolean {
  return cfg.WHATSAPP_AUTO_REGISTER_NUMBERS ?? cfg.NODE_ENV !== 'production';
}
