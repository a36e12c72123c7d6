import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { parseConfig } from '@app/config';
import { createTestEnv, startApp, type TestEnv } from '@app/testing';
import { GatewayConfigSchema } from '../src/config';
import { GatewayModule } from '../src/gateway.module';

const ADMIN = { email: 'root@example.test', password: 'admin-password-123' };

describe('authentication, users, teams and API keys (real PostgreSQL)', () => {
  let env: TestEnv;
  let app: INestApplication;
  let http: ReturnType<typeof request.agent>;
  let adminToken: string;

  const login = (email: string, password: string) => http.post('/api/v1/auth/login').send({ email, password });
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    env = await createTestEnv({
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SEED_DEMO: 'true',
      DEMO_PASSWORD: 'demo-password-1',
      LOGIN_MAX_FAILURES: '3',
    });
    app = await startApp(GatewayModule.register(parseConfig(GatewayConfigSchema, env.env)));
    http = request.agent(app.getHttpServer());
    adminToken = (await login(ADMIN.email, ADMIN.password).expect(200)).body.accessToken;
  });
  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  it('creates the first admin from ADMIN_EMAIL and answers /me with the caller', async () => {
    const me = await http.get('/api/v1/me').set(as(adminToken)).expect(200);
    expect(me.body).toMatchObject({ kind: 'user', email: ADMIN.email, role: 'admin', teamIds: [] });
  });

  it('seeds the demo organisation: three teams, a manager and four agents', async () => {
    const teams = await http.get('/api/v1/teams').set(as(adminToken)).expect(200);
    expect(teams.body.items.map((t: { name: string }) => t.name)).toEqual(['After-sales', 'Sales', 'Support']);
    const users = await http.get('/api/v1/users').set(as(adminToken)).expect(200);
    const demo = users.body.items.filter((u: { email: string }) => u.email.endsWith('@demo.switchboard.test'));
    expect(demo.map((u: { role: string }) => u.role).sort()).toEqual(['agent', 'agent', 'agent', 'agent', 'manager']);
    const ben = demo.find((u: { email: string }) => u.email.startsWith('ben@'));
    expect(ben.teamIds).toHaveLength(2);
    await login('ana@demo.switchboard.test', 'demo-password-1').expect(200);
  });

  it('refuses requests without or with a bad token (401) and names the header', async () => {
    const none = await http.get('/api/v1/me').expect(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('Authorization') });
    await http.get('/api/v1/me').set(as('sba_not-a-real-token')).expect(401);
    await http.get('/api/v1/me').set(as('garbage')).expect(401);
  });

  it('validates the login body, naming the field', async () => {
    const res = await http.post('/api/v1/auth/login').send({ email: 'not-an-email', password: 'x' }).expect(400);
    expect(res.body.message).toMatch(/email/);
  });

  it('throttles failed logins: after the limit even the right password gets 429 with Retry-After', async () => {
    const email = 'throttled@example.test';
    await http
      .post('/api/v1/users')
      .set(as(adminToken))
      .send({ email, name: 'T', password: 'the-right-password', role: 'agent' })
      .expect(201);
    for (let i = 0; i < 3; i++) {
      const r = await login(email, 'wrong-password');
      expect(r.status).toBe(401);
      expect(r.body.message).toBe('email or password is wrong');
    }
    const blocked = await login(email, 'the-right-password').expect(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    // another account is not affected
    await login(ADMIN.email, ADMIN.password).expect(200);
  });

  it('counts concurrent wrong guesses exactly (no burst past the limit)', async () => {
    const email = 'burst@example.test';
    const results = await Promise.all(Array.from({ length: 8 }, () => login(email, 'guess-guess')));
    const codes = results.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 401)).toHaveLength(3);
    expect(codes.filter((c) => c === 429)).toHaveLength(5);
  });

  it('refresh rotates both tokens; a replayed refresh token revokes the session', async () => {
    const first = (await login(ADMIN.email, ADMIN.password).expect(200)).body;
    const second = (await http.post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }).expect(200)).body;
    expect(second.accessToken).not.toBe(first.accessToken);
    await http.get('/api/v1/me').set(as(second.accessToken)).expect(200);
    // the old access token was replaced
    await http.get('/api/v1/me').set(as(first.accessToken)).expect(401);
    // replaying the old refresh token: refused, and the whole session is revoked
    await http.post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }).expect(401);
    await http.get('/api/v1/me').set(as(second.accessToken)).expect(401);
    await http.post('/api/v1/auth/refresh').send({ refreshToken: second.refreshToken }).expect(401);
  });

  it('logout really revokes: the access and refresh tokens stop working at once', async () => {
    const t = (await login(ADMIN.email, ADMIN.password).expect(200)).body;
    await http.get('/api/v1/me').set(as(t.accessToken)).expect(200);
    await http.post('/api/v1/auth/logout').set(as(t.accessToken)).expect(204);
    await http.get('/api/v1/me').set(as(t.accessToken)).expect(401);
    await http.post('/api/v1/auth/refresh').send({ refreshToken: t.refreshToken }).expect(401);
  });

  it('lets only admins manage users and teams; a user may be in several teams', async () => {
    const a = (await http.post('/api/v1/teams').set(as(adminToken)).send({ name: 'Team A' }).expect(201)).body;
    const b = (await http.post('/api/v1/teams').set(as(adminToken)).send({ name: 'Team B' }).expect(201)).body;
    await http.post('/api/v1/teams').set(as(adminToken)).send({ name: 'team a' }).expect(409);
    const u = (
      await http
        .post('/api/v1/users')
        .set(as(adminToken))
        .send({ email: 'multi@example.test', name: '<b>Multi</b>', password: 'multi-password-1', role: 'agent', teamIds: [a.id, b.id] })
        .expect(201)
    ).body;
    expect(u.teamIds.sort()).toEqual([a.id, b.id].sort());
    expect(u.name).toBe('<b>Multi</b>'); // stored as text
    expect(u).not.toHaveProperty('passwordHash');
    await http
      .post('/api/v1/users')
      .set(as(adminToken))
      .send({ email: 'MULTI@example.test', name: 'x', password: 'multi-password-1', role: 'agent' })
      .expect(409);
    const bad = await http
      .post('/api/v1/users')
      .set(as(adminToken))
      .send({ email: 'r@example.test', name: 'x', password: 'multi-password-1', role: 'superuser' })
      .expect(400);
    expect(bad.body.message).toMatch(/role/);

    const agent = (await login('multi@example.test', 'multi-password-1').expect(200)).body.accessToken;
    const me = await http.get('/api/v1/me').set(as(agent)).expect(200);
    expect(me.body.teamIds.sort()).toEqual([a.id, b.id].sort());
    await http.post('/api/v1/teams').set(as(agent)).send({ name: 'Nope' }).expect(403);
    await http.patch(`/api/v1/users/${u.id}`).set(as(agent)).send({ role: 'admin' }).expect(403);
    await http.get('/api/v1/teams').set(as(agent)).expect(200);

    const patched = await http.patch(`/api/v1/users/${u.id}`).set(as(adminToken)).send({ teamIds: [b.id] }).expect(200);
    expect(patched.body.teamIds).toEqual([b.id]);
    // disabling a user ends their sessions
    await http.patch(`/api/v1/users/${u.id}`).set(as(adminToken)).send({ disabled: true }).expect(200);
    await http.get('/api/v1/me').set(as(agent)).expect(401);
    await login('multi@example.test', 'multi-password-1').expect(401);
  });

  it('API keys: scoped, shown once, hashed at rest, last-used recorded, revocable', async () => {
    const created = (
      await http.post('/api/v1/api-keys').set(as(adminToken)).send({ name: 'CRM sync', scopes: ['conversations:read'] }).expect(201)
    ).body;
    expect(created.key).toMatch(/^sbk_/);
    expect(created.lastUsedAt).toBeNull();
    const listed = (await http.get('/api/v1/api-keys').set(as(adminToken)).expect(200)).body.items;
    expect(JSON.stringify(listed)).not.toContain(created.key);
    const stored = await app.get(require('typeorm').DataSource).query(`SELECT key_hash FROM gateway.api_key WHERE id = $1`, [created.id]);
    expect(stored[0].key_hash.toString('utf8')).not.toContain(created.key.slice(4, 20));

    await http.get('/api/v1/teams').set('X-Api-Key', created.key).expect(200);
    await http.get('/api/v1/teams').set(as(created.key)).expect(200);
    const refused = await http.post('/api/v1/teams').set('X-Api-Key', created.key).send({ name: 'By key' }).expect(403);
    expect(refused.body.message).toMatch(/admin/);
    const me = await http.get('/api/v1/me').set('X-Api-Key', created.key).expect(200);
    expect(me.body).toMatchObject({ kind: 'api_key', name: 'CRM sync', scopes: ['conversations:read'] });

    const after = (await http.get('/api/v1/api-keys').set(as(adminToken)).expect(200)).body.items.find(
      (k: { id: string }) => k.id === created.id,
    );
    expect(after.lastUsedAt).not.toBeNull();
    await http.delete(`/api/v1/api-keys/${created.id}`).set(as(adminToken)).expect(200);
    await http.get('/api/v1/teams').set('X-Api-Key', created.key).expect(401);
    await http.post('/api/v1/api-keys').set(as(adminToken)).send({ name: 'x', scopes: ['root'] }).expect(400);
  });
  it('lists the built-in roles with their permissions in words, read-only, to any signed-in person; the list is what the API enforces', async () => {
    await http.get('/api/v1/roles').expect(401);
    await http.post('/api/v1/users').set(as(adminToken)).send({ email: 'roles-viewer@example.test', name: 'Vera', password: 'viewer-password-1', role: 'viewer' }).expect(201);
    const viewer = (await login('roles-viewer@example.test', 'viewer-password-1').expect(200)).body.accessToken;
    const roles = (await http.get('/api/v1/roles').set(as(viewer)).expect(200)).body;
    expect(roles.custom).toBe(false);
    expect(roles.items.map((r: { role: string }) => r.role)).toEqual(['admin', 'manager', 'agent', 'viewer']);
    const scopesOf = (role: string) => roles.items.find((r: { role: string }) => r.role === role).scopes.map((s: { scope: string }) => s.scope);
    expect(scopesOf('admin')).toEqual(expect.arrayContaining(['admin', 'messages:send', 'audit:read']));
    expect(scopesOf('agent')).toEqual(expect.arrayContaining(['conversations:write', 'messages:send']));
    expect(scopesOf('agent')).not.toContain('admin');
    expect(scopesOf('viewer')).toEqual(['conversations:read', 'contacts:read']);
    for (const r of roles.items) {
      expect(r.description.length).toBeGreaterThan(10);
      for (const s of r.scopes) expect(s.description.length).toBeGreaterThan(5);
    }
    // what the list says a viewer lacks is refused by the API
    const refused = await http.post(`/api/v1/conversations/${randomUUID()}/messages`).set(as(viewer)).set('Idempotency-Key', 'k1').send({ text: 'hi' }).expect(403);
    expect(refused.body.message).toContain('messages:send');
    await http.post('/api/v1/teams').set(as(viewer)).send({ name: 'Not mine' }).expect(403);
    await http.post('/api/v1/roles').set(as(adminToken)).send({ name: 'custom' }).expect(404); // read-only: no custom roles
  });
});
