/**
 * Everything a command touches outside itself, so commands can run in-process in
 * tests and the same way from the real `coi` binary.
 */
import { visibleLines } from '../core/records';

export interface CliIO {
  /** Writes to standard output (no newline added). */
  readonly stdout: (text: string) => void;
  /** Writes to standard error (no newline added). */
  readonly stderr: (text: string) => void;
  /** The working directory relative paths resolve against. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether standard error is a terminal (progress then updates one line with `REDRAW_LINE`; control characters are shown escaped: `shownOnTerminal`). */
  readonly stderrIsTTY?: boolean;
  /** Whether standard output is a terminal (what is printed then shows its control characters escaped: `shownOnTerminal`). */
  readonly stdoutIsTTY?: boolean;
  /**
   * Reads standard input to its end, or until more than `maxBytes` bytes have come
   * (it then stops reading and resolves with what it has: the caller refuses it as too
   * large, and `cat /dev/zero | coi check -` ends). Rejects when standard input cannot be read,
   * and with the signal's reason when `signal` aborts first (Ctrl-C: standard input is then no longer read).
   */
  readonly readStdin: (maxBytes: number, signal?: AbortSignal) => Promise<Buffer>;
  /**
   * Asks the person at the terminal a question (on standard error) and resolves with the
   * line they type. Absent when standard input is not a terminal: a command that needs a
   * confirmation then refuses unless it was given on the command line (`--yes`).
   */
  readonly ask?: (question: string) => Promise<string>;
  /**
   * Aborted when standard output stopped taking what `coi` writes, its reason a `StdoutStop`: its
   * reader went away (`coi run ... | head -1`: a write failed with EPIPE), or a write failed (a full
   * disk, `> /dev/full`, an I/O error). From then on what is written to standard output is
   * dropped; the work that runs under `withInterrupt` stops as after a cancel, keeping what
   * finished (the run record, the step cache, the eval store, the reports written to files); and
   * `runCli` says why in one line (a failed write; a closed pipe is no error) and exits with the
   * stop's code (`STDOUT_STOP_EXIT_CODES`). Absent: standard output never stops (tests).
   */
  readonly stdoutStopped?: AbortSignal;
  /**
   * Resolves once what was written to standard output so far has gone out, or once standard
   * output stopped (`stdoutStopped`). A pipe takes a long text as its reader reads it: a command
   * that says on standard error what it wrote (`Converted 20 examples ...`) waits for this first,
   * so that it knows whether all of it went (`stdoutStop`). Absent: written at once (tests).
   */
  readonly stdoutWritten?: () => Promise<void>;
}

/**
 * Starts a line anew on a terminal (carriage return, erase the line): the one control
 * sequence `coi` writes itself, at the start of a progress line redrawn in place on standard error
 * (`statusLine` in cli/statusLine.ts).
 */
export const REDRAW_LINE = '\r\x1b[K';

/**
 * `io` as every command writes through (`runCli`): on a terminal, what it prints is shown and
 * not obeyed. A model's reply, a training log, a dataset file, a `.coi` file's strings or a file
 * name may hold escape sequences that a terminal would obey (OSC 52 writes the clipboard, OSC 0
 * sets the title, CSI 2J clears the screen): their control characters (C0 but line feeds and
 * tabs, DEL, C1, the bidirectional and invisible marks) are shown as escapes, `\u001b`, as
 * `coi test` shows outputs. Each character is escaped on its own, so a sequence split across
 * writes (streamed chunks) is shown escaped too. On standard error, a write may begin with
 * `REDRAW_LINE` (a progress line). Piped or redirected, the text is written exactly.
 */
export function shownOnTerminal(io: CliIO): CliIO {
  const stdout = io.stdout;
  const stderr = io.stderr;
  return {
    ...io,
    ...(io.stdoutIsTTY === true ? { stdout: (text: string) => stdout(visibleLines(text)) } : {}),
    ...(io.stderrIsTTY === true ? { stderr: (text: string) => stderr(text.startsWith(REDRAW_LINE) ? REDRAW_LINE + visibleLines(text.slice(REDRAW_LINE.length)) : visibleLines(text)) } : {}),
  };
}

/** Exit code when standard output is closed early (`coi run ... | head`, `CliIO.stdoutStopped`): 128 + SIGPIPE, as shells report it. */
export const EXIT_BROKEN_PIPE = 141;

/** Exit code when standard output cannot be written (a full disk, `> /dev/full`, an I/O error, `CliIO.stdoutStopped`): sysexits' EX_IOERR. */
export const EXIT_OUTPUT_FAILED = 74;

/** Why standard output stopped taking what `coi` writes: `CliIO.stdoutStopped`'s reason. */
export type StdoutStop =
  /** Its reader went away (EPIPE: `| head`, `less` quit early): no error, nothing is said. */
  | { readonly kind: 'closed' }
  /** A write failed (a full disk, an I/O error): `message` says why, one line (`outputFailureMessage`). */
  | { readonly kind: 'failed'; readonly message: string };

/** The exit code of each stop: 141 for a closed pipe, 74 for a failed write. */
export const STDOUT_STOP_EXIT_CODES: Readonly<Record<StdoutStop['kind'], number>> = { closed: EXIT_BROKEN_PIPE, failed: EXIT_OUTPUT_FAILED };

/** How messages name a stop: `Stopped, standard output closed: ...`, `(stopped, standard output failed)`. */
export const STDOUT_STOP_WORDS = { closed: 'standard output closed', failed: 'standard output failed' } as const satisfies Readonly<Record<StdoutStop['kind'], string>>;

/** Why `io`'s standard output stopped (`CliIO.stdoutStopped`), or undefined while it takes what is written. */
export function stdoutStop(io: Pick<CliIO, 'stdoutStopped'>): StdoutStop | undefined {
  return io.stdoutStopped?.aborted === true ? (io.stdoutStopped.reason as StdoutStop) : undefined;
}

/** What is said on standard error when standard output stops: `coi: Cannot write the output: ...` for a failed write; nothing for a closed pipe (no error). */
export function stdoutStopLine(stop: StdoutStop | undefined): string {
  return stop?.kind === 'failed' ? `coi: ${stop.message}\n` : '';
}

/** `ENOSPC` → "Cannot write the output: no space left on device (ENOSPC).": one line, the system's words. */
export function outputFailureMessage(err: NodeJS.ErrnoException): string {
  // Node words it "ENOSPC: no space left on device, write": keep the middle.
  const words = /^[A-Z0-9_]+: (.*?)(?:, \w+)?$/.exec(err.message)?.[1] ?? err.message;
  return `Cannot write the output: ${words}${err.code !== undefined ? ` (${err.code})` : ''}.`;
}

export function processIO(): CliIO {
  // A reader that goes away (`| head`) makes writes fail with EPIPE, a full disk with ENOSPC, and
  // Node raises either as an 'error' event (unhandled: a stack trace). `coi` stops writing and
  // stops its work, through the same path as a cancel (`stdoutStopped`), so that what finished
  // is kept (a run's record, the step cache, an eval's store) before it exits: 141 for a closed
  // pipe, no error of the command's (as Unix tools do); 74 for a failed write, said in one line
  // (runCli). What follows the first failed write would be lost too: it is dropped.
  const stopped = new AbortController();
  const stop = (err: NodeJS.ErrnoException): void => {
    if (stopped.signal.aborted) return;
    const reason: StdoutStop = err.code === 'EPIPE' ? { kind: 'closed' } : { kind: 'failed', message: outputFailureMessage(err) };
    stopped.abort(reason);
  };
  process.stdout.on('error', stop);
  process.stderr.on('error', () => undefined); // nowhere left to report it
  // The last write's end: a pipe takes what is written as its reader reads it.
  let written: Promise<void> = Promise.resolve();
  return {
    stdout: (text) => {
      if (stopped.signal.aborted) return; // nobody reads it any more
      // Nothing to write cannot fail (`coi check clean/ > /dev/full`), but a device answers an empty write with its error.
      if (text === '') return;
      written = new Promise((resolve) => process.stdout.write(text, () => resolve()));
      // A file or device is written synchronously: its error is known now, its event comes later.
      const error = process.stdout.errored as NodeJS.ErrnoException | null;
      if (error !== null) stop(error);
    },
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    readStdin: (maxBytes, signal) => readStream(process.stdin, maxBytes, signal),
    ...(process.stdin.isTTY === true ? { ask: askOnTerminal } : {}),
    stdoutStopped: stopped.signal,
    stdoutWritten: () => (stopped.signal.aborted ? Promise.resolve() : Promise.race([written, new Promise<void>((resolve) => stopped.signal.addEventListener('abort', () => resolve(), { once: true }))])),
  };
}

/**
 * The bytes of `stream` up to its end, or its first bytes past `maxBytes` (then it is no longer
 * read). When `signal` aborts first, the stream is no longer read (nor keeps the process alive)
 * and the signal's reason is thrown.
 */
export function readStream(stream: NodeJS.ReadableStream & { destroy?: () => void }, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stopReading = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', finish);
      stream.removeListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
      stream.on('error', () => undefined); // a late error of a stream no longer read
    };
    const finish = (): void => {
      stopReading();
      resolve(Buffer.concat(chunks, length));
    };
    const onAbort = (): void => {
      stopReading();
      stream.pause();
      stream.destroy?.();
      reject(signal?.reason);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(bytes);
      length += bytes.length;
      if (length > maxBytes) {
        // Enough to refuse it; reading on would never end for an endless producer.
        stream.pause();
        stream.destroy?.();
        finish();
      }
    };
    const onError = (err: Error): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', finish);
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', finish);
    stream.once('error', onError);
  });
}

/** One question on the terminal; Ctrl-D (end of input) answers ''. */
async function askOnTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => {
      terminal.once('close', () => resolve(''));
      terminal.question(question, resolve);
    });
  } finally {
    terminal.close();
  }
}
