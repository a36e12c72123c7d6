import { Inject, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import cors from 'cors';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

/**
 * Cross-origin access to the API is an allow-list (CORS_ORIGINS, exact origins such as https://crm.example.com).
 * An origin not on the list gets no Access-Control-Allow-Origin, so a browser on another site cannot read any
 * answer; requests without an Origin (server-to-server, the web client served from the gateway itself) are
 * unaffected. Authentication is a bearer token, never a cookie, so credentials are not allowed cross-origin.
 * Uses the `cors` middleware (what Nest's enableCors wraps) so preflight handling follows the Fetch standard.
 */
@Module({})
export class CorsModule implements NestModule {
  constructor(@Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig) {}

  configure(consumer: MiddlewareConsumer): void {
    const allowed = new Set(this.cfg.CORS_ORIGINS);
    consumer
      .apply(
        cors({
          origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin)),
          methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
          allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'X-Request-Id'],
          exposedHeaders: ['ETag', 'Retry-After', 'X-Request-Id', 'Location'],
          credentials: false,
          maxAge: 600,
        }),
      )
      .forRoutes('*');
  }
}
