/** Reading the files a check refers to (`schema_file`) from disk. */
import { readRegularTextFile } from '../syntax/textFile';

/**
 * A file's text, or undefined when it cannot be read: the `readFile` of CheckOptions for
 * files on disk (the checker reports the unreadable file). A device, a FIFO or a file over
 * 64 MiB counts as unreadable: the language server checks on every keystroke and must not hang.
 */
export function readTextIfPossible(path: string): string | undefined {
  try {
    return readRegularTextFile(path);
  } catch {
    return undefined;
  }
}
