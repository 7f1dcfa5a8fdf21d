/**
 * The one place the CLI asks `core` about a document, so every command sees the
 * same diagnostics and chain as the editor.
 */
import { checkParsed, readTextIfPossible, type CheckResult } from '../core/check/index';
import { parse, type ParseResult, type Severity } from '../core/syntax';

export interface CheckTextOptions {
  /** The text's parse, from a caller that already parsed it (not parsed twice). */
  readonly parsed?: ParseResult;
  /** Report only problems of this severity or a more serious one (`coi check --min-severity`). */
  readonly minSeverity?: Severity;
}

/** Parses and checks `text`, the contents of the file at `path` (`schema_file` paths resolve against it). */
export function checkText(text: string, path: string, options: CheckTextOptions = {}): CheckResult {
  return checkParsed(options.parsed ?? parse(text), { documentPath: path, readFile: readTextIfPossible, minSeverity: options.minSeverity });
}
