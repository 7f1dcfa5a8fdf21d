/**
 * The one place the CLI asks `core` about a document, so every command sees the
 * same diagnostics and chain as the editor.
 */
import { checkParsed, readTextIfPossible, type CheckResult } from '../core/check/index';
import { parse, type Diagnostic, type LineMap, type ParseResult, type Severity } from '../core/syntax';

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

/**
 * One diagnostic as `coi check` prints it: `FILE:LINE:COLUMN: severity CODE: message` (1-based),
 * a message's further lines indented, ending in a line break. `display` is the file as the user
 * named it; `lineMap` is of the text the diagnostic was found in.
 */
export function diagnosticLine(display: string, lineMap: LineMap, diagnostic: Diagnostic): string {
  return `${diagnosticText(display, lineMap, diagnostic)}\n`;
}

/** The same without the final line break, for a line inside a longer message (`coi run`'s errors). */
export function diagnosticText(display: string, lineMap: LineMap, diagnostic: Diagnostic): string {
  const { line, character } = lineMap.positionAt(diagnostic.span.start);
  const message = diagnostic.message.replace(/\r?\n/g, '\n    ');
  return `${display}:${line + 1}:${character + 1}: ${diagnostic.severity} ${diagnostic.code}: ${message}`;
}
