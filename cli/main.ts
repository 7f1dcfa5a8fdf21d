/**
 * Entry point of the `coi` command (bundled to dist/cli.js, started by bin/coi.js).
 * The exit code is set, not forced, so buffered output is flushed before exiting.
 */
import { runCli } from './cli';
import { EXIT_INTERNAL } from './errors';
import { EXIT_BROKEN_PIPE, processIO } from './io';

const io = processIO();
void runCli(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
  // Output the pipe has not taken yet when the command ends (a long report) is written on after
  // it: a reader that goes away now ends `coi` as one that went away before (runCli: 141).
  if (code !== EXIT_INTERNAL) io.stdoutClosed?.addEventListener('abort', () => (process.exitCode = EXIT_BROKEN_PIPE), { once: true });
});
