/**
 * Entry point of the `coi` command (bundled to dist/cli.js, started by bin/coi.js).
 * The exit code is set, not forced, so buffered output is flushed before exiting.
 */
import { runCli } from './cli';
import { EXIT_INTERNAL } from './errors';
import { processIO, STDOUT_STOP_EXIT_CODES, stdoutStop, stdoutStopLine } from './io';

const io = processIO();
void runCli(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
  // Output the pipe has not taken yet when the command ends (a long report) is written on after
  // it: a reader that goes away now, or a write that fails now, ends `coi` as one before would
  // (runCli: said, 141 or 74). A stop before this point runCli has said and counted.
  if (code === EXIT_INTERNAL || stdoutStop(io) !== undefined) return;
  io.stdoutStopped?.addEventListener(
    'abort',
    () => {
      const stop = stdoutStop(io);
      if (stop === undefined) return;
      io.stderr(stdoutStopLine(stop));
      process.exitCode = STDOUT_STOP_EXIT_CODES[stop.kind];
    },
    { once: true },
  );
});
