'use strict';
// Loads a bundle from dist/, bundling the checkout first when it has not been built yet
// (so `npx coi` works straight after cloning, before any build).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

module.exports = function requireBundle(name) {
  const root = join(__dirname, '..');
  const bundle = join(root, 'dist', name);
  if (!existsSync(bundle)) {
    require('node:child_process').execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  require(bundle);
};
