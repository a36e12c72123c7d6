#!/usr/bin/env node
'use strict';
/** Builds every app with the Nest CLI (tsc builder) and stamps the build so `npm start` can skip it. */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, SERVICES, entryOf } = require('./services');

const STAMP = path.join(ROOT, 'dist', '.build-stamp');
const SOURCES = ['apps', 'libs', 'tsconfig.json', 'nest-cli.json', 'package-lock.json'];

function newestMtime(p) {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of fs.readdirSync(p)) {
    if (e === 'node_modules' || e === 'dist') continue;
    max = Math.max(max, newestMtime(path.join(p, e)));
  }
  return max;
}

function isStale() {
  const stamp = fs.statSync(STAMP, { throwIfNoEntry: false });
  if (!stamp) return true;
  if (SERVICES.some((s) => !fs.existsSync(entryOf(s.name)))) return true;
  if (!fs.existsSync(path.join(ROOT, 'dist', 'web', 'index.html'))) return true;
  return SOURCES.some((s) => newestMtime(path.join(ROOT, s)) > stamp.mtimeMs);
}

function build() {
  const started = Date.now();
  process.stdout.write('Building Switchboard (nest build --all)…\n');
  execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', '--all'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  process.stdout.write('Building the web client (vite build → dist/web)…\n');
  execFileSync(process.execPath, [path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js'), 'build', '--config', path.join(ROOT, 'apps/web/vite.config.mts'), '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, new Date().toISOString());
  process.stdout.write(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

module.exports = { build, isStale };

if (require.main === module) build();
