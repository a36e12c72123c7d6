#!/usr/bin/env node
'use strict';
/**
 * Builds the apps with the Nest CLI (tsc builder) and the web client, and stamps the build so `npm start` can skip it.
 * Targets: `all` (every project: the split services, the sandbox and the single-machine process) or `standalone`
 * (only apps/standalone, which compiles every service into one program, and the web client: what single-machine mode
 * runs; a fresh clone's first `npm start` then compiles once instead of seven times, ~1.5 min instead of ~6 on 2
 * shared cores). Each target has its own stamp; a full build also counts as a fresh `standalone` one.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, SERVICES, entryOf } = require('./services');

const stampOf = (target, root) =>
  path.join(root, 'dist', target === 'standalone' ? '.build-stamp-standalone' : '.build-stamp');
const projectsOf = (target) =>
  target === 'standalone' ? ['standalone'] : [...SERVICES.map((s) => s.name), 'standalone'];
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

function isStale(target = 'all', root = ROOT) {
  const stamps = [stampOf(target, root), stampOf('all', root)].slice(0, target === 'standalone' ? 2 : 1);
  const built = Math.max(0, ...stamps.map((f) => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0));
  if (!built) return true;
  if (projectsOf(target).some((name) => !fs.existsSync(entryOf(name, root)))) return true;
  if (!fs.existsSync(path.join(root, 'dist', 'web', 'index.html'))) return true;
  return SOURCES.some((s) => newestMtime(path.join(root, s)) > built);
}

function build(target = 'all') {
  const started = Date.now();
  const what = target === 'standalone' ? ['standalone'] : ['--all'];
  process.stdout.write(`Building Switchboard (nest build ${what.join(' ')})…\n`);
  execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', ...what], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  process.stdout.write('Building the web client (vite build → dist/web)…\n');
  execFileSync(process.execPath, [path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js'), 'build', '--config', path.join(ROOT, 'apps/web/vite.config.mts'), '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  fs.writeFileSync(stampOf(target, ROOT), new Date().toISOString());
  process.stdout.write(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

module.exports = { build, isStale };

if (require.main === module) build();
