/**
 * Where bytes stop being UTF-8: one rule for the CLI's warning on the files it only reads (.coi
 * files, run inputs, `coi eval`'s datasets and records), for the sources that `coi dataset build`
 * and `coi import` refuse (they would write U+FFFD into new files) and for the training data that
 * `coi finetune start` refuses.
 */
import { isUtf8 } from 'node:buffer';

/** The first byte that does not start or continue a valid UTF-8 sequence: its offset, and its line and column (1-based; the column in characters of the decoded line). */
export interface InvalidUtf8 {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  /** The byte, as `0xE9`. */
  readonly byte: string;
}

/** Where `bytes` stop being UTF-8, or undefined when they are UTF-8 throughout. */
export function invalidUtf8At(bytes: Uint8Array): InvalidUtf8 | undefined {
  if (isUtf8(bytes)) return undefined;
  const offset = firstInvalidUtf8Byte(bytes);
  const before = Buffer.from(bytes.buffer, bytes.byteOffset, offset).toString('utf8');
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return { offset, line, column, byte: `0x${(bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0')}` };
}

function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] ?? 0;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    if (!isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return bytes.length;
}
