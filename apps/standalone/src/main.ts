import 'reflect-metadata';
import { startStandalone, type Standalone } from './standalone';

/**
 * `npm start` without DATABASE_URL/NATS_URL runs this: the whole product in one process (single-machine mode).
 * Prints one banner when ready; SIGTERM/SIGINT stop it gracefully (bounded by SHUTDOWN_TIMEOUT_MS).
 */
async function main(): Promise<void> {
  const started = Date.now();
  // handlers before anything starts: a Ctrl-C (or the IPC-disconnect SIGTERM) during start-up must not kill it
  // mid-migration — without a listener the signal's default action ends the process at once, and start-up's first
  // synchronous steps already create the data directory; it stops once start-up has finished (a start-up that fails
  // exits 1 through main's catch). A handler runs from the event loop, so `starting` is set by then.
  let starting: Promise<Standalone> | undefined;
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping || !starting) return;
      stopping = true;
      process.stdout.write('\nStopping Switchboard…\n');
      void starting.then(async (s) => {
        setTimeout(() => process.exit(1), Number(process.env.SHUTDOWN_TIMEOUT_MS) || 15_000).unref();
        await s.stop();
        process.exit(0);
      }, () => undefined);
    });
  }
  starting = startStandalone(process.env);
  const s = await starting;
  if (stopping) return;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const demo = process.env.SEED_DEMO === 'true';
  process.stdout.write(
    [
      '',
      '──────────────────────────────────────────────────────────────',
      ` Switchboard is ready (${seconds} s): ${s.url}`,
      '   SINGLE-MACHINE MODE: every service, the embedded PostgreSQL (PGlite) and the in-process bus in this one',
      '   process. For production run the split services on PostgreSQL and NATS (npm run start:services).',
      `   data:     ${s.dataDir}`,
      s.localOnly
        ? '   network:  this machine only; HOST=0.0.0.0 opens it to your network (set DEMO_PASSWORD first)'
        : demo && !process.env.DEMO_PASSWORD
          ? '   WARNING:  open to the network with the public demo password: set DEMO_PASSWORD, or SEED_DEMO=false'
          : '   network:  open to your network (HOST)',
      ...(demo
        ? [
            `   DEMO logins (password ${process.env.DEMO_PASSWORD || 'switchboard-demo'}): manager@demo.switchboard.test,`,
            '              ana@, ben@, chloe@, dan@demo.switchboard.test (agents)',
          ]
        : []),
      ...(s.sandboxUrl ? [`   SANDBOX:  ${s.sandboxUrl}/sandbox  (write as a WhatsApp customer; no Meta account needed)`] : []),
      `   API docs: ${s.url}/api/docs    health: ${s.url}/health/ready`,
      '   Ctrl-C stops everything.',
      '──────────────────────────────────────────────────────────────',
      '',
    ].join('\n'),
  );
}

// started by `npm start` (scripts/start.js, over an IPC channel): if that process is killed, stop too
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Switchboard (single-machine mode) failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
