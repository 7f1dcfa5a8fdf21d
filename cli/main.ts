/**
 * Entry point of the `coi` command (bundled to dist/cli.js, started by bin/coi.js).
 * The exit code is set, not forced, so buffered output is flushed before exiting.
 */
import { runCli } from './cli';
import { processIO } from './io';

void runCli(process.argv.slice(2), processIO()).then((code) => {
  process.exitCode = code;
});
