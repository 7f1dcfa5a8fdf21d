/**
 * Everything a command touches outside itself, so commands can run in-process in
 * tests and the same way from the real `coi` binary.
 */
export interface CliIO {
  /** Writes to standard output (no newline added). */
  readonly stdout: (text: string) => void;
  /** Writes to standard error (no newline added). */
  readonly stderr: (text: string) => void;
  /** The working directory relative paths resolve against. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether standard error is a terminal (progress then updates one line with \r). */
  readonly stderrIsTTY?: boolean;
}

/** Exit code when standard output is closed early (`coi run ... | head`): 128 + SIGPIPE, as shells report it. */
export const EXIT_BROKEN_PIPE = 141;

export function processIO(): CliIO {
  // A reader that goes away (`| head`) makes writes fail with EPIPE, which Node
  // raises as an unhandled 'error' event (a stack trace). Stop quietly instead, as
  // Unix tools do; a local model's worker exits when its IPC channel closes.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
    throw err;
  });
  process.stderr.on('error', () => undefined); // nowhere left to report it
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}
