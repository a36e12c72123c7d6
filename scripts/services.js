'use strict';
/** The services `npm start` runs, their ports and built entry points. One list, used by every script. */
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SERVICES = [
  { name: 'gateway', port: 3000 },
  { name: 'ingest', port: 3001 },
  { name: 'routing', port: 3002 },
  { name: 'sla', port: 3003 },
  { name: 'notifications', port: 3004 },
  // the simulated WhatsApp Cloud API (apps/sandbox): on by default for development, never in production
  ...(process.env.SANDBOX !== 'off' && process.env.NODE_ENV !== 'production' ? [{ name: 'sandbox', port: 3005, sandbox: true }] : []),
];

function entryOf(name, root = ROOT) {
  return path.join(root, 'dist', 'apps', name, 'apps', name, 'src', 'main.js');
}

/**
 * How the single-machine mode's one process is launched (`npm start` and `npm run bench -- embedded`), to keep it
 * well under 400 MB. Measured (issue 10): of ~410 MB RSS at 100 webhooks/s, ~165 MB were V8 heap pages — each of the
 * two isolates (main, PGlite worker) keeps a 32 MB young generation, and the main thread's old space fills with
 * garbage between collections — and ~150 MB glibc malloc arenas (one per thread that allocates: the worker,
 * V8's compile and GC helpers, libuv's pool), mostly freed memory the arenas keep. A 4 MB semi-space (both isolates)
 * and two arenas take ~80 MB off the peak; the cost is more frequent scavenges, ~0.15 ms GC time per message (~3 %
 * of its CPU), within the noise of the throughput figures. A 1 GB old-space limit (far above the ~50 MB live,
 * and the 400 MB goal) makes V8 grow the heap by ≤ 1.6× the live size between full collections instead of up to 4×
 * (main heap 80 MB instead of up to 130 MB). MALLOC_ARENA_MAX set in the environment wins.
 */
const STANDALONE_NODE_ARGS = ['--max-semi-space-size=4', '--max-old-space-size=1024'];
function standaloneEnv(env) {
  return { MALLOC_ARENA_MAX: '2', ...env };
}

module.exports = { ROOT, SERVICES, entryOf, STANDALONE_NODE_ARGS, standaloneEnv };
