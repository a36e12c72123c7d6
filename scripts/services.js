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

function entryOf(name) {
  return path.join(ROOT, 'dist', 'apps', name, 'apps', name, 'src', 'main.js');
}

module.exports = { ROOT, SERVICES, entryOf };
