#!/usr/bin/env node
'use strict';
// The `coi` command. Bundles on first use when the checkout has not been built yet.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'cli.js');
if (!existsSync(bundle)) {
  require('node:child_process').execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
require(bundle);
