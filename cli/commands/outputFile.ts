/**
 * The one output file of `coi export --out`, `coi dataset convert --out` and `coi test
 * --junit-file`, written so that Ctrl-C (or SIGTERM) never leaves a temporary or half a file.
 */
import type { CliIO } from '../io';
import { replaceFileCancellable, yieldToEventLoop } from '../files';
import { displayPath } from '../../core/syntax';
import { cancelledBy, cancelledExitCode, withInterrupt } from './runSupport';

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
  return withInterrupt(io, async (signal) => {
    try {
      await replaceFileCancellable(path, text, signal, { makeFolders: options.makeFolders === true });
    } catch (error) {
      if (!signal.aborted) throw options.failure(error);
      io.stderr(`coi ${command}: cancelled; ${options.notWritten ?? 'nothing written'}.\n`);
      return cancelledExitCode(signal);
    }
    await yieldToEventLoop();
    if (signal.aborted) io.stderr(`coi ${command}: ${cancelledBy(signal)} came after ${displayPath(path, io.cwd)} was written.\n`);
    return undefined;
  });
}
