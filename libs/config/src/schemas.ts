import { z } from 'zod';

const urlWithProtocol = (name: string, protocols: string[]) =>
  z
    .string()
    .trim()
    .min(1, `${name} must not be empty`)
    .refine(
      (v) => {
        try {
          const u = new URL(v);
          return protocols.includes(u.protocol.replace(/:$/, '')) && u.hostname.length > 0;
        } catch {
          return false;
        }
      },
      { message: `must be a URL like ${protocols[0]}://host:port${name === 'DATABASE_URL' ? '/database' : ''}` },
    );

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** Settings every service shares. Each service extends this in its own config.ts. */
export const BaseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: urlWithProtocol('DATABASE_URL', ['postgres', 'postgresql']).default(
    'postgres://postgres@127.0.0.1:5432/switchboard',
  ),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  NATS_URL: urlWithProtocol('NATS_URL', ['nats', 'tls']).default('nats://127.0.0.1:4222'),
  /**
   * `nats`: NATS + JetStream at NATS_URL (the split deployment). `embedded`: the in-process bus of the
   * single-machine mode (`npm start` without DATABASE_URL/NATS_URL), its event log kept in the database.
   */
  BUS: z.enum(['nats', 'embedded']).default('nats'),
  /** Prefix for every subject, stream and durable; lets several installs (or test runs) share one NATS. */
  NATS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
    .default(''),
  /** Copies of each JetStream stream kept by the NATS cluster (3 on a 3-node cluster; 1 on a single server). */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Run this service's migrations at start-up (default on except in production). */
  MIGRATIONS_RUN: bool.optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
});
export type BaseConfig = z.infer<typeof BaseConfigSchema>;

export const portSetting = (dflt: number) => z.coerce.number().int().min(0).max(65535).default(dflt);
export { bool as boolSetting };

export function migrationsRun(cfg: BaseConfig): boolean {
  return cfg.MIGRATIONS_RUN ?? cfg.NODE_ENV !== 'production';
}
