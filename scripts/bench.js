#!/usr/bin/env node
'use strict';
/** `npm run bench -- <name>`: runs bench/<name>.js; without a name, lists them. */
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'bench');
const available = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.js') && f !== 'lib.js')
  .map((f) => f.replace(/\.js$/, ''));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.log(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}`);
  process.exit(name ? 1 : 0);
}
require(path.join(dir, `${name}.js`));
