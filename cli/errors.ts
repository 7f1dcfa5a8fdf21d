/**
 * Errors a command raises to stop with a message for the user (never a stack trace).
 * Exit codes (docs/cli.md): 0 success, 1 the inputs have errors, 2 usage errors and
 * unreadable or missing files, 70 an internal error (a bug in coi).
 */
import { isTextFileRefusal, REFUSAL_MESSAGES } from '../core/syntax';

export const EXIT_OK = 0;
export const EXIT_ERRORS = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_ERRORS,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A mistake in the command line: bad option, missing argument. Exit code 2. */
export class UsageError extends CliError {
  constructor(
    message: string,
    /** The command whose `--help` the user should read. */
    readonly command?: string,
  ) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** A file that does not exist or cannot be read. Exit code 2. */
export class FileError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'FileError';
  }
}

/** `ENOENT` → "no such file or directory", for messages. */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  // A device, a FIFO, a file too large (core's text-file guard, also a too-large standard input): core's words.
  if (isTextFileRefusal(code)) return REFUSAL_MESSAGES[code];
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EEXIST':
      // From mkdir, the only place coi meets it (never "already exists": a file is in the way of a folder it makes).
      return 'a file stands where a folder of the path must be';
    case 'ELOOP':
      return 'too many symbolic links (a link that points back to itself, directly or through others)';
    case 'ENAMETOOLONG':
      return 'the name is too long for the file system';
    case 'EBINARY':
      return 'it is a binary file (it contains NUL bytes), not a text file';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
