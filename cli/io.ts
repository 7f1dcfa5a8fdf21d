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
   * Aborted when standard output's reader has gone away (`coi run ... | head -1`: a write failed
   * with EPIPE). From then on what is written to standard output is dropped; the work that runs
   * under `withInterrupt` stops as after a cancel, keeping what finished (the run record, the
   * step cache, the eval store, the reports written to files); and `runCli` exits with
   * `EXIT_BROKEN_PIPE`. Absent: standard output never closes (tests).
   */
  readonly stdoutClosed?: AbortSignal;
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

/** Exit code when standard output is closed early (`coi run ... | head`, `CliIO.stdoutClosed`): 128 + SIGPIPE, as shells report it. */
export const EXIT_BROKEN_PIPE = 141;

/** Exit code when standard output cannot be written (a full disk, `> /dev/full`, an I/O error): sysexits' EX_IOERR. */
export const EXIT_OUTPUT_FAILED = 74;

/** `ENOSPC` → "Cannot write the output: no space left on device (ENOSPC).": one line, the system's words. */
export function outputFailureMessage(err: NodeJS.ErrnoException): string {
  // Node words it "ENOSPC: no space left on device, write": keep the middle.
  const words = /^[A-Z0-9_]+: (.*?)(?:, \w+)?$/.exec(err.message)?.[1] ?? err.message;
  return `Cannot write the output: ${words}${err.code !== undefined ? ` (${err.code})` : ''}.`;
}

export function processIO(): CliIO {
  // A reader that goes away (`| head`) makes writes fail with EPIPE, which Node raises as an
  // 'error' event (unhandled: a stack trace). It is no error of the command: as Unix tools do,
  // `coi` stops writing and stops its work, but through the same path as a cancel (`stdoutClosed`),
  // so that what finished is kept (a run's record, the step cache, an eval's store) before it
  // exits with 141. Any other write error (a full disk) stops with one line on stderr, at the
  // first failed write: what follows would be lost too.
  const closed = new AbortController();
  let failed = false;
  const stop = (err: NodeJS.ErrnoException): void => {
    if (failed) return;
    failed = true;
    if (err.code === 'EPIPE') {
      closed.abort();
      return;
    }
    process.stderr.write(`coi: ${outputFailureMessage(err)}\n`);
    process.exit(EXIT_OUTPUT_FAILED);
  };
  process.stdout.on('error', stop);
  process.stderr.on('error', () => undefined); // nowhere left to report it
  return {
    stdout: (text) => {
      if (failed) return; // nobody reads it any more
      process.stdout.write(text);
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
    stdoutClosed: closed.signal,
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
