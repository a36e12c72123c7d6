import type { INestApplication } from '@nestjs/common';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';

/** The gateway serves the built web client at `/` (a stand-in build here: the real one is exercised by test/browser). */
describe('web client served by the gateway', () => {
  let env: TestEnv;
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Switchboard</title><script type="module" src="/assets/app-1a2b3c.js"></script>');
    writeFileSync(join(dir, 'assets', 'app-1a2b3c.js'), 'console.log("app")');
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *\nDisallow: /\n');
    env = await createTestEnv({ WEB_DIR: dir, SEED_DEMO: 'true', DEMO_PASSWORD: 'demo-password-9' });
    app = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
  });
  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  it('GET / is the app with security headers: CSP without inline script, never framed, nosniff, no referrer, revalidated', async () => {
    const res = await http().get('/').expect(200).expect('content-type', /text\/html/);
    expect(res.text).toContain('<title>Switchboard</title>');
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers).toMatchObject({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
  });

  it('client routes fall back to the app; hashed assets are cached for a year; a missing asset is a 404, not HTML', async () => {
    for (const path of ['/c/1b4e28ba-2fa1-11d2-883f-0016d3cca427', '/dashboard', '/admin/users', '/index.html']) {
      const res = await http().get(path).expect(200).expect('content-type', /text\/html/);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const js = await http().get('/assets/app-1a2b3c.js').expect(200).expect('content-type', /javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    await http().get('/robots.txt').expect(200).expect('cache-control', 'no-cache');
    await http().get('/assets/app-old.js').expect(404);
    await http().get('/favicon.ico').expect(404);
    await http().head('/').expect(200);
  });

  it('never answers API, webhook, health, metrics or sandbox paths with the app, nor non-GET requests', async () => {
    const api = await http().get('/api/v1/nothing-here').expect(404);
    expect(api.headers['content-type']).toMatch(/json/);
    await http().get('/api/v1/conversations').expect(401);
    await http().get('/health/live').expect(200).expect('content-type', /json/);
    const metrics = await http().get('/metrics').expect(200);
    expect(metrics.headers['content-type']).not.toMatch(/html/);
    expect((await http().get('/webhooks/whatsapp')).headers['content-type'] ?? '').not.toMatch(/html/);
    expect((await http().get('/sandbox').expect(404)).headers['content-type']).not.toMatch(/html/);
    expect((await http().post('/').send({}).expect(404)).headers['content-type']).toMatch(/json/);
  });

  it('does not serve files outside the build', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/assets/..%2f..%2fpackage.json', '/..%5cpackage.json']) {
      const res = await http().get(path);
      expect(res.text).not.toContain('"name": "switchboard"');
    }
  });

  it('GET /api/v1/web/config tells the login page the demo logins when the demo is seeded', async () => {
    const res = await http().get('/api/v1/web/config').expect(200);
    expect(res.body.demo.password).toBe('demo-password-9');
    expect(res.body.demo.users).toContainEqual({ email: 'ana@demo.switchboard.test', name: expect.stringContaining('Ana'), role: 'agent' });
    expect(res.body.sandboxUrl).toBe('http://127.0.0.1:3005/sandbox'); // the default Graph API is the local sandbox
    await http().post('/api/v1/auth/login').send({ email: 'ana@demo.switchboard.test', password: 'demo-password-9' }).expect(200);
  });
});
