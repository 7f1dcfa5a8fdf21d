/**
 * The one place the CLI asks `core` about a document, so every command sees the
 * same diagnostics and chain as the editor.
 */
import { checkParsed, readTextIfPossible, type CheckResult } from '../core/check/index';
import { parse, type ParseResult } from '../core/syntax';

/**
 * Parses and checks `text`, the contents of the file at `path` (`schema_file` paths resolve against it).
 * A caller that already parsed the text passes the result instead of parsing twice.
 */
export function checkText(text: string, path: string, parsed: ParseResult = parse(text)): CheckResult {
  return checkParsed(parsed.file, parsed.diagnostics, { documentPath: path, readFile: readTextIfPossible });
}
