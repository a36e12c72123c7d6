import type { LoggerService, LogLevel } from '@nestjs/common';
import pino, { type Logger as Pino } from 'pino';
import { currentCorrelationId } from '@app/messaging';

const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Nest logger that writes one JSON line per entry with the service name and correlation id. */
export class JsonLogger implements LoggerService {
  readonly pino: Pino;

  constructor(service: string, level: string) {
    this.pino = pino({
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const correlationId = currentCorrelationId();
        return correlationId ? { correlationId } : {};
      },
    });
  }

  private write(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', message: unknown, params: unknown[]) {
    const context = typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
      return;
    }
    if (message !== null && typeof message === 'object') {
      this.pino[level]({ context, ...(message as object) });
      return;
    }
    const stack = level === 'error' && typeof params[0] === 'string' ? params[0] : undefined;
    this.pino[level](stack ? { context, stack } : { context }, String(message));
  }

  log(message: unknown, ...params: unknown[]) {
    // Nest's start-up chatter (one line per module and route) is debug, not info
    const ctx = params[params.length - 1];
    this.write(typeof ctx === 'string' && QUIET_CONTEXTS.has(ctx) ? 'debug' : 'info', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.write('fatal', message, params);
  }
  setLogLevels(_levels: LogLevel[]) {
    /* level is set from LOG_LEVEL */
  }
}
