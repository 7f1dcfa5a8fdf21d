/**
 * Errors a command raises to stop with a message for the user (never a stack trace).
 * Exit codes (docs/cli.md): 0 success, 1 the inputs have errors, 2 usage errors and
 * unreadable or missing files, 70 an internal error (a bug in coi).
 */
/** The file system's error codes in words (core's, shared with the side panel). */
export { describeFsError } from '../core/syntax';

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

