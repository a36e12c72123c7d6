import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transpileModule, ModuleKind } from 'typescript';

describe('lowerProcessPriority', () => {
  it('renices every thread of the process (V8 and libuv threads too), not only the main one', () => {
    // run in a child process: niceness cannot be lowered back without privilege
    const source = readFileSync(join(__dirname, 'process-priority.ts'), 'utf8');
    const { outputText } = transpileModule(source, { compilerOptions: { module: ModuleKind.CommonJS } });
    const probe = `
      ${outputText}
      require('node:fs').stat(__filename, () => {}); // libuv's thread pool is started before the renice
      setTimeout(() => {
        exports.lowerProcessPriority(7);
        require('node:fs').stat(__filename, () => {
          const fs = require('node:fs');
          const nices = fs.readdirSync('/proc/self/task').map((tid) => {
            const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
            return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19: nice
          });
          process.stdout.write(JSON.stringify(nices));
        });
      }, 50);`;
    const child = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const nices = JSON.parse(child.stdout) as number[];
    expect(nices.length).toBeGreaterThan(4);
    expect(nices).toEqual(nices.map(() => 7));
  });
});
