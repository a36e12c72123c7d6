#!/usr/bin/env node
'use strict';
/** `npm run migrate`: apply every service's migrations (each to its own schema), then exit. */
const { execFileSync } = require('node:child_process');
const { SERVICES, entryOf, ROOT } = require('./services');
const { build, isStale } = require('./build');

if (isStale()) build();
for (const s of SERVICES) {
  execFileSync(process.execPath, [entryOf(s.name), '--migrate'], { cwd: ROOT, stdio: 'inherit' });
}
