import { INestApplication, Logger, ValidationPipe, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { openDataSource } from '@app/persistence';
import { CORRELATION_HEADER, REQUEST_ID_HEADER, newCorrelationId, runWithContext } from '@app/messaging';
import { AllExceptionsFilter } from './exception.filter';
import { JsonLogger } from './logger';
import { collectDefaults, httpRequests } from './metrics';

/** Same set-up in main.ts and in every e2e test. */
export function configureApp<T extends INestApplication>(app: T): T {
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.header(CORRELATION_HEADER) ?? req.header(REQUEST_ID_HEADER);
    const correlationId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : newCorrelationId();
    res.setHeader(REQUEST_ID_HEADER, correlationId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req as Request & { route?: { path?: string } }).route?.path ?? 'unmatched';
      httpRequests.observe(
        { method: req.method, route: `${req.baseUrl ?? ''}${route}`, status: String(res.statusCode) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    runWithContext({ correlationId }, () => next());
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new AllExceptionsFilter());
  // on SIGTERM/SIGINT: stop taking work, hand back or finish what is in flight, close, then exit 0 (Nest's
  // default re-raises the signal, which a container runtime reports as exit 143 and a failed shutdown)
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

export interface ServiceBootOptions {
  service: string;
  port: number;
  host?: string;
  logLevel: string;
  shutdownTimeoutMs: number;
  nestOptions?: NestApplicationOptions;
  /** Extra set-up before listen (e.g. the gateway's raw-body parser). */
  setup?: (app: INestApplication) => void | Promise<void>;
}

/** Start one service: JSON logs, metrics, health, graceful SIGTERM with a hard deadline. */
export async function bootService(module: unknown, opts: ServiceBootOptions): Promise<INestApplication> {
  collectDefaults(opts.service);
  const logger = new JsonLogger(opts.service, opts.logLevel);
  let app: INestApplication;
  try {
    app = await NestFactory.create(module as never, { logger, ...opts.nestOptions });
  } catch (err) {
    logger.pino.fatal({ err }, `${opts.service} failed to start: ${(err as Error).message}`);
    process.stderr.write(`[${opts.service}] failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  configureApp(app);
  await opts.setup?.(app);
  // graceful shutdown: Nest's hooks stop consumers, drain NATS and close the pool; this bounds it
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stopping = true;
      setTimeout(() => {
        logger.warn(`shutdown exceeded ${opts.shutdownTimeoutMs} ms, exiting`, 'Bootstrap');
        process.exit(1);
      }, opts.shutdownTimeoutMs).unref();
    });
  }
  try {
    await app.listen(opts.port, opts.host ?? '0.0.0.0');
  } catch (err) {
    // stopped while starting (a rollout replaced the pod before it was ready): the shutdown hooks finish the exit
    if (stopping) {
      logger.warn(`${opts.service} stopped while starting: ${(err as Error).message}`, 'Bootstrap');
      return app;
    }
    logger.pino.fatal({ err }, `${opts.service} failed to start: ${(err as Error).message}`);
    process.stderr.write(`[${opts.service}] failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const url = await app.getUrl();
  new Logger('Bootstrap').log(`${opts.service} listening on ${url.replace('[::1]', 'localhost').replace('0.0.0.0', '127.0.0.1')}`);
  return app;
}

/** `node main.js --migrate`: apply this service's migrations and exit (the deploy step; K8s Job). */
export async function migrateAndExit(service: string, opts: { url: string; schema: string; migrations: Function[] }): Promise<never> {
  try {
    const ds = await openDataSource({ ...opts, entities: [], migrationsRun: true });
    await ds.destroy();
    process.stdout.write(`[${service}] migrations applied to schema ${opts.schema}\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`[${service}] migration failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
