import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

export interface ServiceProcess {
  proc: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed (for failure messages). */
  output(): string;
}

/**
 * Starts one service as its own OS process running its main.ts (bootService, signal handling and all), as a
 * container runs it. The sources go through test/support/ts-register.js, so the test runs the code under test
 * even when `dist/` is stale or missing (CI runs the tests without a build).
 */
export function spawnService(name: string, env: Record<string, string>): ServiceProcess {
  const args = ['-r', join(ROOT, 'test', 'support', 'ts-register.js'), join(ROOT, 'apps', name, 'src', 'main.ts')];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  proc.stderr!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  return { proc, exited, output: () => out };
}
