/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web client: `vite build` writes static files to dist/web, which the gateway serves at `/`.
 * TSX is compiled by Vite's own transform (automatic JSX runtime from tsconfig); no React plugin is needed.
 * `vite` (dev server) proxies the API and the WebSocket to a gateway on :3000.
 */
export default defineConfig({
  root,
  base: '/',
  build: { outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)), emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:3000', ws: true } } },
  test: { environment: 'happy-dom', globals: true, include: ['src/**/*.test.{ts,tsx}'], root },
});
