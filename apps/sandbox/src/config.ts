import { z } from 'zod';
import { boolSetting, portSetting } from '@app/config';

const list = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const ms = (dflt: number) => z.coerce.number().int().min(0).max(600_000).default(dflt);

/** The WhatsApp Cloud API simulator. Development and tests only: it refuses to start in production. */
export const SandboxConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: portSetting(3005),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** The Bearer token the fake Graph API accepts (the client's WHATSAPP_ACCESS_TOKEN). */
  SANDBOX_ACCESS_TOKEN: z.preprocess((v) => (v === '' || v === undefined ? 'sandbox-token' : v), z.string().min(1)),
  /** Where signed webhooks go (the gateway). */
  SANDBOX_WEBHOOK_URL: z.string().url().default('http://127.0.0.1:3000/webhooks/whatsapp'),
  /** Send webhooks at all (statuses and customer messages). */
  SANDBOX_WEBHOOKS: boolSetting.default('true'),
  /** App secret(s) for X-Hub-Signature-256; the first one signs. */
  WHATSAPP_APP_SECRET: z.preprocess((v) => (v === '' || v === undefined ? 'sandbox-app-secret' : v), list.pipe(z.array(z.string()).min(1))),
  SANDBOX_WABA_ID: z.string().regex(/^\d+$/).default('100000000000001'),
  /** The business name `GET /{version}/{phone-number-id}` reports as verified_name. */
  SANDBOX_VERIFIED_NAME: z.string().min(1).max(100).default('Switchboard Sandbox'),
  /** Known business numbers; empty = any numeric id is accepted. */
  SANDBOX_PHONE_NUMBER_IDS: list,
  /** Throughput per business number (Meta default 80/s) → 130429 above it. */
  SANDBOX_RATE_PER_SECOND: z.coerce.number().int().min(1).max(10_000).default(80),
  /** Pair limit: one message per number→user per this interval → 131056. 0 = off. */
  SANDBOX_PAIR_INTERVAL_MS: ms(6_000),
  /** Delays (ms after the send) of the sent, delivered and read status webhooks. */
  SANDBOX_STATUS_DELAYS_MS: z
    .string()
    .default('100,300,600')
    .transform((s) => s.split(',').map((x) => Number(x.trim())))
    .pipe(z.array(z.number().int().min(0)).length(3)),
  /** Share of status webhooks delivered twice (0..1). */
  SANDBOX_STATUS_DUPLICATE_RATE: z.coerce.number().min(0).max(1).default(0),
  /** Share of messages whose statuses are sent in reverse order (0..1). */
  SANDBOX_STATUS_OUT_OF_ORDER_RATE: z.coerce.number().min(0).max(1).default(0),
  /** How long a "timeout" fault holds the answer. */
  SANDBOX_TIMEOUT_FAULT_MS: ms(15_000),
});
export type SandboxConfig = z.infer<typeof SandboxConfigSchema>;
export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');
