import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { WebController } from './web.controller';
import { WebStaticMiddleware } from './web-static.middleware';

/** The web client: static files at `/` with SPA fallback and security headers, and its public config. */
@Module({ controllers: [WebController], providers: [WebStaticMiddleware] })
export class WebModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(WebStaticMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
