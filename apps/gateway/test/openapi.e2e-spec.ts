import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';
import { useOpenApi } from '../src/inbox/openapi';

describe('OpenAPI document', () => {
  let env: TestEnv;
  let app: INestApplication;

  beforeAll(async () => {
    env = await createTestEnv();
    app = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)), { setup: useOpenApi });
  });
  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  it('serves the document with every inbox, auth and admin route, their bodies, answers and security', async () => {
    const doc = (await request(app.getHttpServer()).get('/api/docs-json').expect(200)).body;
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/v1/auth/login',
      '/api/v1/auth/refresh',
      '/api/v1/auth/logout',
      '/api/v1/me',
      '/api/v1/users',
      '/api/v1/teams',
      '/api/v1/api-keys',
      '/api/v1/conversations',
      '/api/v1/conversations/{id}',
      '/api/v1/conversations/{id}/timeline',
      '/api/v1/conversations/{id}/claim',
      '/api/v1/conversations/{id}/assign',
      '/api/v1/conversations/{id}/handoff',
      '/api/v1/conversations/{id}/status',
      '/api/v1/conversations/{id}/takeover',
      '/api/v1/conversations/{id}/notes',
      '/api/v1/conversations/{id}/messages',
      '/api/v1/conversations/{id}/bot',
      '/api/v1/conversations/{id}/handover',
      '/api/v1/conversations/{id}/take-back',
      '/api/v1/numbers/{phoneNumberId}/bot',
      '/api/v1/templates',
      '/api/v1/templates/sync',
      '/api/v1/audit',
    ])
      expect(paths).toContain(p);
    const s = doc.components.schemas;
    expect(Object.keys(doc.paths['/api/v1/numbers/{phoneNumberId}/bot']).sort()).toEqual(['delete', 'get', 'put']);
    expect(doc.paths['/api/v1/templates'].get.parameters.find((p: { name: string }) => p.name === 'status').schema.enum).toContain('REJECTED');
    expect(s.StatusDto.properties.status.enum).toEqual(['open', 'pending', 'snoozed', 'resolved']);
    // the version the client saw travels in the body or as If-Match (ETag of GET /conversations/{id})
    expect(s.StatusDto.required).toEqual(['status']);
    expect(s.StatusDto.properties.version).toMatchObject({ minimum: 1 });
    expect(s.HandoffDto.required).toEqual(expect.arrayContaining(['note']));
    expect(doc.paths['/api/v1/conversations/{id}/status'].post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'If-Match', in: 'header' })]));
    expect(doc.paths['/api/v1/conversations/{id}'].get.responses['200'].headers.ETag).toBeDefined();
    // an integrator replies through POST /api/v1/messages from the document alone
    const send = doc.paths['/api/v1/messages'].post;
    expect(s.SendMessageDto.required).toEqual(expect.arrayContaining(['phoneNumberId', 'to', 'type']));
    expect(send.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SendMessageDto');
    expect(send.responses['202'].content['application/json'].schema.$ref).toBe('#/components/schemas/SendResponse');
    expect(send.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true })]));
    expect(doc.paths['/api/v1/conversations/{id}/messages'].get.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/MessagePageResponse');
    expect(s.ConversationResponse.properties.owner).toBeDefined();
    // bot handover: the holding bot on every conversation; a handover needs a team and a summary note
    expect(s.ConversationResponse.properties.bot).toBeDefined();
    expect(s.BotHandoverDto.required).toEqual(expect.arrayContaining(['teamId', 'note']));
    expect(s.ApiKeyResponse?.properties.scopes.items.enum ?? s.CreateApiKeyDto.properties.scopes.items.enum).toContain('bot');
    const reply = doc.paths['/api/v1/conversations/{id}/messages'].post;
    expect(reply.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true })]));
    expect(reply.responses['202'].content['application/json'].schema.$ref).toBe('#/components/schemas/ReplyResponse');
    expect(reply.responses['409']).toBeDefined();
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { scheme: 'bearer' }, apiKey: { name: 'X-Api-Key' } });
    expect(new Set(Object.values(doc.paths).flatMap((p: any) => Object.values(p).map((o: any) => o.operationId))).size).toBeGreaterThan(25);
  });

  it('serves the UI', async () => {
    const res = await request(app.getHttpServer()).get('/api/docs').expect(200);
    expect(res.text).toContain('swagger');
  });
});
