import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { configureApp } from '@app/platform';

/** Every line a Nest app logs, at every level (for tests that assert what never appears in logs). */
export class CapturedLogs implements LoggerService {
  readonly lines: string[] = [];
  private add(level: string, args: unknown[]) {
    this.lines.push(`${level} ${args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a))).join(' ')}`);
  }
  log(...a: unknown[]) { this.add('log', a); }
  error(...a: unknown[]) { this.add('error', a); }
  warn(...a: unknown[]) { this.add('warn', a); }
  debug(...a: unknown[]) { this.add('debug', a); }
  verbose(...a: unknown[]) { this.add('verbose', a); }
  fatal(...a: unknown[]) { this.add('fatal', a); }
}

/** Like libs/testing's startApp, but the app logs into `logs` at every level instead of nowhere. */
export async function startCapturedApp(
  module: unknown,
  logs: CapturedLogs,
  opts: { listen?: boolean; setup?: (app: INestApplication) => void } = {},
): Promise<INestApplication> {
  const ref = await Test.createTestingModule({ imports: [module as never] }).compile();
  const app = configureApp(ref.createNestApplication({ logger: logs, bufferLogs: false }));
  app.useLogger(logs);
  opts.setup?.(app);
  if (opts.listen) await app.listen(0, '127.0.0.1');
  else await app.init();
  return app;
}
