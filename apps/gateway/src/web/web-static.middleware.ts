import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

/** Paths that are never the web client (their own handlers answer, including their 404s). */
export const NOT_WEB = /^\/(api|webhooks|health|metrics|sandbox)(\/|$)/;

/**
 * The HTML's policy: scripts and styles only from this origin (the build has no inline script), media through
 * blob URLs, never framed. React renders all data as text, so stored markup in names or messages stays inert.
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function webDir(cfg: Pick<GatewayConfig, 'WEB_DIR'>): string {
  return resolve(cfg.WEB_DIR || join(process.cwd(), 'dist', 'web'));
}

/**
 * Serves the built web client (vite build → dist/web) at `/`: hashed files under /assets/ cached for a year,
 * everything else revalidated; any other GET that is not an API/webhook/health/metrics/sandbox path gets
 * index.html (the client routes /c/:id, /dashboard, /admin itself).
 */
@Injectable()
export class WebStaticMiddleware implements NestMiddleware {
  private readonly log = new Logger('Web');
  private readonly dir: string;
  private readonly files: express.RequestHandler;
  private index: Buffer | null = null;

  constructor(@Inject(GATEWAY_CONFIG) cfg: GatewayConfig) {
    this.dir = webDir(cfg);
    this.files = express.static(this.dir, {
      index: false,
      redirect: false,
      fallthrough: true,
      setHeaders: (res, path) => {
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Cache-Control', path.includes(`${join(this.dir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_WEB.test(req.path)) return next();
    if (req.path === '/index.html') return this.sendIndex(res);
    this.files(req, res, () => {
      // a missing asset or file is a 404, not the app (a stale tab would otherwise parse HTML as JavaScript)
      if (req.path.startsWith('/assets/') || /\.[a-z0-9]{1,8}$/i.test(req.path)) return next();
      this.sendIndex(res);
    });
  }

  private sendIndex(res: Response): void {
    if (!this.index) {
      try {
        this.index = readFileSync(join(this.dir, 'index.html'));
      } catch {
        this.log.warn(`the web client is not built (no ${join(this.dir, 'index.html')}); run npm run build`);
        res.status(404).type('text/plain').send('The web client is not built. Run `npm run build` (or `npm start`), then reload.\n');
        return;
      }
    }
    res
      .status(200)
      .setHeader('Content-Security-Policy', WEB_CSP)
      .setHeader('X-Frame-Options', 'DENY')
      .setHeader('X-Content-Type-Options', 'nosniff')
      .setHeader('Referrer-Policy', 'no-referrer')
      .setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()')
      .setHeader('Cross-Origin-Opener-Policy', 'same-origin')
      .setHeader('Cache-Control', 'no-cache')
      .type('html')
      .send(this.index);
  }
}
