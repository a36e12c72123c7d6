import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { IngestConfigSchema } from '../../ingest/src/config';
import { IngestModule } from '../../ingest/src/ingest.module';

describe('gateway → NATS → ingest on real PostgreSQL and NATS', () => {
  let env: TestEnv;
  let gateway: INestApplication;
  let ingest: INestApplication | undefined;

  beforeAll(async () => {
    env = await createTestEnv();
    ingest = await startApp(IngestModule.register(parseConfig(IngestConfigSchema, env.env)));
    gateway = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
  });
  afterAll(async () => {
    await gateway?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  it('reaches the ingest service through the bus and returns its answer', async () => {
    const res = await request(gateway.getHttpServer()).get('/api/v1/system/services/ingest').expect(200);
    expect(res.body).toMatchObject({ service: 'ingest', database: 'ok' });
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('reports live and ready, with its database and NATS checked', async () => {
    await request(gateway.getHttpServer()).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(gateway.getHttpServer()).get('/health/ready');
    expect(ready.body.checks.database).toEqual({ ok: true });
    expect(ready.body.checks.nats).toEqual({ ok: true });
    // routing, sla and notifications are not started in this test, so the gateway is not ready
    expect(ready.status).toBe(503);
    expect(ready.body.checks.services.detail).toBe('down: routing, sla, notifications');
  });

  it('is ready as a pod with ?peers=false (its own database and NATS), whatever the back ends do', async () => {
    const ready = await request(gateway.getHttpServer()).get('/health/ready?peers=false').expect(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: { ok: true }, nats: { ok: true } } });
  });

  it('answers 404 with a message for an unknown service', async () => {
    const res = await request(gateway.getHttpServer()).get('/api/v1/system/services/billing').expect(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'unknown service "billing"' });
  });

  it('answers an oversized JSON body with 413 and a message, not 500', async () => {
    const res = await request(gateway.getHttpServer())
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(300_000) }))
      .expect(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request body is too large' });
  });

  it('exposes Prometheus metrics', async () => {
    const res = await request(gateway.getHttpServer()).get('/metrics').expect(200);
    expect(res.text).toContain('switchboard_http_request_seconds');
    expect(res.text).toContain('switchboard_bus_requests_total');
  });

  it('answers 503 within the timeout once the service is stopped, never hangs', async () => {
    await ingest!.close();
    ingest = undefined;
    const started = Date.now();
    const res = await request(gateway.getHttpServer()).get('/api/v1/system/services/ingest').expect(503);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    expect(res.body.message).toMatch(/ingest is unavailable/);
    expect(res.headers['retry-after']).toBe('5');
  });
});
