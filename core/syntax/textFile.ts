/**
 * The guard every text file coi reads goes through (chains, schema files, inputs): what
 * is not a text file on disk is refused before a byte is read, so that neither `coi check`
 * nor the language server reads `/dev/zero` until memory runs out or waits on a FIFO forever.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';

/** Larger files are refused (a .coi file is a few kilobytes; V8 strings stop at 512 MiB). */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** Codes of the refusals, read by describeFsError (fsErrors.ts); the messages say the same. */
export type TextFileRefusal = 'EDEVICE' | 'ENOTREGULAR' | 'ETOOLARGE';

export const REFUSAL_MESSAGES: Readonly<Record<TextFileRefusal, string>> = {
  EDEVICE: 'it is a device, not a file',
  ENOTREGULAR: 'it is not a regular file (a FIFO or a socket)',
  ETOOLARGE: 'it is larger than 64 MiB, too large for a text file coi reads',
};

/** Whether an error code is one of these refusals (the CLI words them as core does). */
export function isTextFileRefusal(code: unknown): code is TextFileRefusal {
  return typeof code === 'string' && Object.hasOwn(REFUSAL_MESSAGES, code);
}

function refusal(code: TextFileRefusal): Error {
  return Object.assign(new Error(REFUSAL_MESSAGES[code]), { code });
}

/**
 * Throws when the file `stat` describes must not be read as text: a device (read forever,
 * or waiting for typing), a file over MAX_TEXT_BYTES and, unless `allowPipes`, anything that
 * is not a regular file (a FIFO blocks until a writer comes). The files named on the command
 * line allow pipes (`coi check /dev/stdin`); files a chain refers to do not.
 */
export function refuseNonTextFile(stat: Stats, allowPipes: boolean): void {
  if (stat.isCharacterDevice() || stat.isBlockDevice()) throw refusal('EDEVICE');
  if (!allowPipes && !stat.isFile()) throw refusal('ENOTREGULAR');
  if (stat.size > MAX_TEXT_BYTES) throw refusal('ETOOLARGE');
}

/** A regular file's UTF-8 text; throws (see refuseNonTextFile) for anything else, unread. */
export function readRegularTextFile(path: string): string {
  refuseNonTextFile(statSync(path), false);
  return readFileSync(path, 'utf8');
}
