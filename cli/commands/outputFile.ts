/**
 * The one output file of `coi export --out`, `coi dataset convert --out` and `coi test
 * --junit-file`, written so that Ctrl-C (or SIGTERM) never leaves a temporary or half a file.
 */
import { STDOUT_STOP_WORDS, stdoutStop, type CliIO } from '../io';
import { replaceFileCancellable, yieldToEventLoop } from '../files';
import { displayPath } from '../../core/syntax';
import { cancellationSubject, reportCancelled, withInterrupt } from './runSupport';

export interface OutputFileOptions {
  /** The error a failed write is thrown as (`Cannot write 'x': why.`). */
  readonly failure: (error: unknown) => Error;
  /** What a cancel leaves, in words: `nothing written` unless told. */
  readonly notWritten?: string;
  /** Make the file's missing folders (removed again when the write fails or is cancelled). */
  readonly makeFolders?: boolean;
}

/**
 * Writes `text` to `path` (`replaceFileCancellable`) with Ctrl-C and SIGTERM handled while it
 * is written. Cancelled before the file takes its name, the temporary is removed, a previous
 * file is left byte for byte, `coi COMMAND: cancelled; nothing written.` is said and the exit
 * code (130, 143 for SIGTERM) returned. A signal while the file takes its name (a rename, not
 * interrupted) finds it written: said, not dropped. Undefined when the file was written.
 */
export async function writeOutputFile(io: CliIO, command: string, path: string, text: string, options: OutputFileOptions): Promise<number | undefined> {
  return withInterrupt(io, (signal) => writeOutputFileUntil(signal, io, command, path, text, options));
}

/** `writeOutputFile` inside a `withInterrupt` already running: cancelled by its `signal`. */
async function writeOutputFileUntil(signal: AbortSignal, io: CliIO, command: string, path: string, text: string, options: OutputFileOptions): Promise<number | undefined> {
  try {
    await replaceFileCancellable(path, text, signal, { makeFolders: options.makeFolders === true });
  } catch (error) {
    if (!signal.aborted) throw options.failure(error);
    return reportCancelled(io, command, signal, { left: options.notWritten ?? 'nothing written' });
  }
  await yieldToEventLoop();
  if (signal.aborted) io.stderr(`coi ${command}: ${cancellationSubject(signal)} came after ${displayPath(path, io.cwd)} was written.\n`);
  return undefined;
}

/** What `readThenWrite`'s work is given: where to let a signal in, and how to write the output file. */
export interface ReadThenWrite {
  /**
   * Lets the signals that came during the synchronous work done so far in (`yieldToEventLoop`),
   * and throws when one cancelled: awaited between the phases of reading and parsing.
   */
  readonly checkpoint: () => Promise<void>;
  /** `writeOutputFile`, cancelled by the same signal. */
  readonly writeOutputFile: (path: string, text: string, options: OutputFileOptions) => Promise<number | undefined>;
}

/**
 * Runs `work`, a command that reads its inputs and then writes one output (a file or standard
 * output), with Ctrl-C and SIGTERM handled from the first byte read to the output written. Reading
 * and parsing are synchronous: a signal is seen at the next `checkpoint` (the work between two is
 * not interrupted), then `coi COMMAND: cancelled; nothing written.` is said and the exit code
 * (130, 143 for SIGTERM) returned. While the file is written, `writeOutputFile` as above.
 */
export async function readThenWrite(io: CliIO, command: string, work: (steps: ReadThenWrite) => Promise<number>): Promise<number> {
  return withInterrupt(io, async (signal) => {
    const checkpoint = async (): Promise<void> => {
      await yieldToEventLoop();
      signal.throwIfAborted();
    };
    try {
      return await work({ checkpoint, writeOutputFile: (path, text, options) => writeOutputFileUntil(signal, io, command, path, text, options) });
    } catch (error) {
      if (!signal.aborted) throw error;
      return reportCancelled(io, command, signal, { left: 'nothing written' });
    }
  });
}

/**
 * Waits until what was written to standard output has all gone out (a pipe takes a long text as
 * its reader reads it) and returns how a stop before that is named (`standard output closed`:
 * the reader went away, `| head`; `standard output failed`: a full disk), or undefined when all
 * of it went: what a command says it wrote (`Converted 20 examples ...`) is then true. Awaited
 * outside `withInterrupt`: Ctrl-C while a stalled reader holds the output ends `coi` at once.
 */
export async function stdoutCutBy(io: CliIO): Promise<(typeof STDOUT_STOP_WORDS)[keyof typeof STDOUT_STOP_WORDS] | undefined> {
  await io.stdoutWritten?.();
  const stop = stdoutStop(io);
  return stop === undefined ? undefined : STDOUT_STOP_WORDS[stop.kind];
}
