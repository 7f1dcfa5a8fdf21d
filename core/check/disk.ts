/** Reading the files a check refers to (`schema_file`) from disk. */
import { readFileSync } from 'node:fs';

/** A file's text, or undefined when it cannot be read: the `readFile` of CheckOptions for files on disk (the checker reports the unreadable file). */
export function readTextIfPossible(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
