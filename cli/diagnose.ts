/**
 * The one place the CLI asks `core` about a document, so every command sees the
 * same diagnostics and chain as the editor.
 */
import { readFileSync } from 'node:fs';
import { checkDocument, type CheckResult } from '../core/check/index';

/** Parses and checks `text`, the contents of the file at `path` (`schema_file` paths resolve against it). */
export function checkText(text: string, path: string): CheckResult {
  return checkDocument(text, { documentPath: path, readFile: readTextOrUndefined });
}

function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
