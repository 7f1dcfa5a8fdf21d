#!/usr/bin/env node
'use strict';
// The `.coi` language server as a standalone program: `coi-language-server --stdio`.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'server.js');
if (!existsSync(bundle)) {
  require('node:child_process').execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
require(bundle);
