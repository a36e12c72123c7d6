import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * scripts/build.js decides whether `npm start` builds first. Single-machine mode builds only apps/standalone (one
 * compile of every service instead of seven), so its stamp must never make the split services' older output look
 * fresh, and a full build must count for the single-machine mode too.
 */
const { isStale } = require(resolve(__dirname, '..', 'scripts', 'build.js')) as { isStale: (target?: string, root?: string) => boolean };

const SPLIT = ['gateway', 'ingest', 'routing', 'sla', 'notifications', 'sandbox'];

describe('build staleness per target (scripts/build.js)', () => {
  let root: string;
  const at = (rel: string, secondsAgo: number) => {
    const file = join(root, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'x');
    const t = Date.now() / 1000 - secondsAgo;
    // a directory's mtime counts as a source change too: date the new folders with the file
    for (let p = file; p !== root; p = dirname(p)) utimesSync(p, t, t);
  };
  const entry = (name: string, secondsAgo: number) => at(`dist/apps/${name}/apps/${name}/src/main.js`, secondsAgo);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sb-build-stamp-'));
    at('apps/gateway/src/main.ts', 600);
    at('libs/messaging/src/bus.ts', 600);
    at('dist/web/index.html', 300);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a standalone-only build is fresh for single-machine mode and never for the split services', () => {
    entry('standalone', 300);
    at('dist/.build-stamp-standalone', 300);
    expect(isStale('standalone', root)).toBe(false);
    expect(isStale('all', root)).toBe(true); // no full build yet

    for (const name of SPLIT) entry(name, 900); // output of an older full build
    at('dist/.build-stamp', 900);
    expect(isStale('all', root)).toBe(true); // the sources changed after it
    expect(isStale('standalone', root)).toBe(false);
  });

  it('a full build counts for both; a source changed after a build makes it stale', () => {
    for (const name of [...SPLIT, 'standalone']) entry(name, 300);
    at('dist/.build-stamp', 300);
    expect(isStale('all', root)).toBe(false);
    expect(isStale('standalone', root)).toBe(false);

    at('libs/messaging/src/bus.ts', 0);
    expect(isStale('all', root)).toBe(true);
    expect(isStale('standalone', root)).toBe(true);
  });

  it('missing output is stale whatever the stamp says', () => {
    entry('standalone', 300);
    at('dist/.build-stamp-standalone', 300);
    rmSync(join(root, 'dist/web'), { recursive: true });
    expect(isStale('standalone', root)).toBe(true);
    at('dist/web/index.html', 300);
    rmSync(join(root, 'dist/apps/standalone'), { recursive: true });
    expect(isStale('standalone', root)).toBe(true);
  });
});
