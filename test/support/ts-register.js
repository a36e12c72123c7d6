'use strict';
/**
 * `node -r ./test/support/ts-register.js apps/<service>/src/main.ts`: runs a service from its TypeScript sources
 * as its own process (what the process-level tests and `npm run scale-test` without a build need). Each file is
 * transpiled with the project's compiler options (decorator metadata included, no type check: `tsc --noEmit`
 * does that) and `@app/<lib>` resolves to libs/<lib>/src like the tsconfig paths.
 */
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..', '..');
const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2023,
  esModuleInterop: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  isolatedModules: true,
  sourceMap: false,
  inlineSourceMap: true,
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const m = /^@app\/(contracts|messaging|persistence|config|platform|testing)(\/.*)?$/.exec(request);
  if (m) request = path.join(ROOT, 'libs', m[1], 'src', m[2] ?? '');
  return resolve.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
  module._compile(outputText, filename);
};
