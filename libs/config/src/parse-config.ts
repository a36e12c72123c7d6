import { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once against a schema. On failure the message names each bad setting and why,
 * never its value (values may be secrets).
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, env: Record<string, unknown>): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ConfigError(`Invalid configuration -> ${problems.join('; ')}`);
}

/** For main.ts: parse or exit the process with one clear line. */
export function loadConfigOrExit<S extends z.ZodTypeAny>(service: string, schema: S, env = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`[${service}] ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
