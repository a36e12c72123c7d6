import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { freePort, waitFor } from '@app/testing';
import { spawnService, type ServiceProcess } from '../../../test/support/service-process';
import { textWebhook } from '../../../test/support/webhooks';
import { sign } from '../../gateway/src/webhooks/whatsapp/signature';

/**
 * Single-machine mode as `npm start` runs it: one OS process (apps/standalone) with PGlite under a data directory
 * and the embedded bus, nothing listening on PostgreSQL's or NATS's ports. Webhooks the gateway accepted (200)
 * survive a SIGKILL right after: on restart on the same directory every one becomes exactly one conversation with
 * exactly one message.
 */
const SECRET = 'single-machine-secret';
const ADMIN = { email: 'admin@example.test', password: 'admin-password-123' };
const ROOT = resolve(__dirname, '..', '..', '..');

describe('single-machine mode (one process, PGlite + embedded bus)', () => {
  let dir: string;
  let port: number;
  let proc: ServiceProcess | undefined;

  const start = (dataDir = dir, onPort = port) =>
    spawnService('standalone', {
      DATA_DIR: dataDir,
      PORT: String(onPort),
      SANDBOX: 'off',
      // nothing is listening here: single-machine mode must not need PostgreSQL or NATS
      NATS_URL: 'nats://127.0.0.1:1',
      WHATSAPP_APP_SECRET: SECRET,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      MEDIA_DIR: join(dataDir, 'media'),
      LOG_LEVEL: 'warn',
    });
  const ready = (p: ServiceProcess, onPort = port) =>
    waitFor(
      async () => {
        if (p.proc.exitCode !== null) throw new Error(`exited: ${p.output()}`);
        return (await request(`http://127.0.0.1:${onPort}`).get('/health/ready')).status === 200;
      },
      { timeoutMs: 180_000, intervalMs: 250, what: 'single-machine mode ready' },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-single-'));
    port = await freePort();
  });
  afterAll(async () => {
    if (proc && proc.proc.exitCode === null) {
      proc.proc.kill('SIGTERM');
      await proc.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with nothing else running; after SIGKILL and a restart nothing accepted is missing or doubled', async () => {
    proc = start();
    await ready(proc);
    const http = request(`http://127.0.0.1:${port}`);
    const customers = Array.from({ length: 12 }, (_, i) => `4915${String(1e7 + i)}`);
    for (const from of customers) {
      const raw = textWebhook({ phoneNumberId: '1555000009', from, text: `hello from ${from}` });
      await http.post('/webhooks/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', sign(raw, SECRET)).send(raw).expect(200);
    }
    proc.proc.kill('SIGKILL');
    expect(await proc.exited).toMatchObject({ signal: 'SIGKILL' });

    proc = start();
    await ready(proc);
    const token = (await http.post('/api/v1/auth/login').send(ADMIN).expect(200)).body.accessToken;
    const list = await waitFor(
      async () => {
        const res = await http.get('/api/v1/conversations?view=all&limit=200').set('Authorization', `Bearer ${token}`);
        return res.body.items?.length >= customers.length ? res.body.items : null;
      },
      { timeoutMs: 60_000, what: 'every accepted webhook as a conversation' },
    );
    expect(list.map((c: { contact: { waId: string } }) => c.contact.waId).sort()).toEqual([...customers].sort());
    for (const c of list) {
      const msgs = await http.get(`/api/v1/conversations/${c.id}/messages`).set('Authorization', `Bearer ${token}`).expect(200);
      expect(msgs.body.items.map((m: { text: string }) => m.text)).toEqual([`hello from ${c.contact.waId}`]);
    }
  }, 480_000);

  it('a SIGTERM during start-up (Ctrl-C, or npm start gone) stops it cleanly once started, and it starts again on the same data', async () => {
    const early = mkdtempSync(join(tmpdir(), 'sb-single-early-'));
    const earlyPort = await freePort();
    try {
      const p = start(early, earlyPort);
      // the embedded database's files appear first: start-up is under way, the migrations still to come
      await waitFor(() => readdirSync(early).length > 0, { timeoutMs: 120_000, intervalMs: 20, what: 'start-up under way' });
      p.proc.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(p.output()).not.toMatch(/is ready/);

      const again = start(early, earlyPort);
      await ready(again, earlyPort);
      again.proc.kill('SIGTERM');
      expect(await again.exited).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(early, { recursive: true, force: true });
    }
  }, 480_000);

  it('prints one banner naming the URL, the mode, the data directory, demo logins and the sandbox page, each of which works', async () => {
    const bannerDir = mkdtempSync(join(tmpdir(), 'sb-single-banner-'));
    const [bannerPort, sandboxPort] = [await freePort(), await freePort()];
    const p = spawnService('standalone', {
      DATA_DIR: bannerDir,
      PORT: String(bannerPort),
      SANDBOX_PORT: String(sandboxPort),
      SEED_DEMO: 'true',
      DEMO_PASSWORD: 'banner-demo-pass',
      WHATSAPP_APP_SECRET: SECRET,
      MEDIA_DIR: join(bannerDir, 'media'),
      LOG_LEVEL: 'warn',
    });
    try {
      const out = await waitFor(() => (/Ctrl-C stops everything/.test(p.output()) ? p.output() : null), {
        timeoutMs: 180_000,
        intervalMs: 250,
        what: 'the banner',
      }).catch((err) => {
        throw new Error(`${(err as Error).message}\n${p.output()}`);
      });
      expect(out.match(/Switchboard is ready/g)).toHaveLength(1);
      expect(out).toContain(`http://localhost:${bannerPort}`);
      expect(out).toContain('SINGLE-MACHINE MODE');
      expect(out).toContain(`data:     ${resolve(bannerDir)}`);
      expect(out).toMatch(/DEMO logins \(password banner-demo-pass\): manager@demo\.switchboard\.test/);
      expect(out).toContain(`SANDBOX:  http://127.0.0.1:${sandboxPort}/sandbox`);
      // what it names is true: the demo manager logs in with that password, the customer page is served
      const http = request(`http://127.0.0.1:${bannerPort}`);
      await http.post('/api/v1/auth/login').send({ email: 'manager@demo.switchboard.test', password: 'banner-demo-pass' }).expect(200);
      // readiness names what carries the messages here: the in-process bus, not NATS
      const ready = await http.get('/health/ready').expect(200);
      expect(ready.body.checks).toMatchObject({ bus: { ok: true }, database: { ok: true } });
      expect(ready.body.checks).not.toHaveProperty('nats');
      const page = await request(`http://127.0.0.1:${sandboxPort}`).get('/sandbox').expect(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      // this machine only by default (the demo password is public; the sandbox lets anyone write as a customer):
      // neither port answers on the machine's network address
      expect(out).toContain('network:  this machine only; HOST=0.0.0.0 opens it to your network');
      const lan = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (lan) for (const port of [bannerPort, sandboxPort]) expect(await connectError(lan, port)).toBe('ECONNREFUSED');
    } finally {
      p.proc.kill('SIGTERM');
      await p.exited;
      rmSync(bannerDir, { recursive: true, force: true });
    }
  }, 480_000);

  it('with a DATABASE_URL that does not answer, npm start fails with a clear message instead of falling back', async () => {
    const { code, out } = await runStart({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/switchboard' });
    expect(code).toBe(1);
    expect(out).toMatch(/cannot reach PostgreSQL at DATABASE_URL \(127\.0\.0\.1:1\)/);
    expect(out).not.toMatch(/single-machine|PGlite|ready/i);
  });

  it('with a DATABASE_URL that is not a PostgreSQL URL, npm start names the setting and the expected form, never its value', async () => {
    const { code, out } = await runStart({ DATABASE_URL: 'postgres:secret-pw@db-host' });
    expect(code).toBe(1);
    expect(out).toMatch(/DATABASE_URL is not a PostgreSQL URL; expected postgres:\/\/user/);
    expect(out).not.toMatch(/secret-pw|single-machine|Building/i);
  });

  it('with DATABASE_URL set but empty, npm start fails clearly instead of running the single-machine mode', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: '', DATA_DIR: join(dir, 'must-not-exist') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const code = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000))]);
    if (code === 'running') child.kill('SIGKILL');
    expect(code).toBe(1);
    expect(out).toMatch(/DATABASE_URL set but empty/);
    expect(out).not.toMatch(/SINGLE-MACHINE MODE|Building|ready/);
  });
});

/** The error code of a TCP connection to host:port, or 'connected'. */
function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host, port }, () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    sock.setTimeout(3_000, () => {
      sock.destroy();
      resolve('timeout');
    });
  });
}

/** `npm start` (scripts/start.js) with only PATH and `env`: its exit code and output. */
async function runStart(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, out };
}
