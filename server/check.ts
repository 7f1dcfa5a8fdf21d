/** The bridge to core's checker: settings → check options, one outcome per document version. */
import type { Chain } from '../core/chain';
import { checkParsed, problemsAt, readTextIfPossible, type CheckOptions } from '../core/check';
import { type CoiFile, type Diagnostic, parse, type ParseResult } from '../core/syntax';
import type { CoiServerSettings } from './protocol';
import { filePathOf } from './uris';

export interface CheckOutcome {
  readonly file: CoiFile;
  readonly parsed: ParseResult;
  readonly chain: Chain;
  /** The problems (syntax, structure, composability, tests, profiles): core's capped list, with its COI000 note. */
  readonly diagnostics: readonly Diagnostic[];
  /** Whether the list left problems out (it then ends with the COI000 note). */
  readonly capped: boolean;
}

/** The check options of a document under its settings (a file on disk, or an untitled one, may name a schema_file). */
function checkOptions(uri: string, settings: CoiServerSettings): CheckOptions {
  const documentPath = filePathOf(uri);
  return {
    ...(documentPath ? { documentPath, readFile: readTextIfPossible } : {}),
    // An untitled document: an absolute schema_file is read; a relative one waits for a folder (COI224).
    ...(uri.startsWith('untitled:') ? { readFile: readTextIfPossible, untitled: true } : {}),
    composability: { enable: settings.composability.enable, warnings: settings.composability.warnings },
  };
}

export function runCheck(uri: string, text: string, settings: CoiServerSettings, parsed: ParseResult = parse(text)): CheckOutcome {
  const result = checkParsed(parsed, checkOptions(uri, settings));
  const capped = Object.values(result.leftOut).some((count) => count > 0);
  return { file: parsed.file, parsed, chain: result.chain, diagnostics: result.diagnostics, capped };
}

/**
 * The problems at `offset` that the outcome's capped list does not show (none when it is
 * complete). Checks the document again: asked only by a hover in a file that had too many.
 */
export function problemsNotShown(uri: string, text: string, settings: CoiServerSettings, outcome: CheckOutcome, offset: number): Diagnostic[] {
  if (!outcome.capped) return [];
  const key = (d: Diagnostic): string => `${d.code}:${d.span.start}:${d.span.end}:${d.message}`;
  const shown = new Set(outcome.diagnostics.map(key));
  return problemsAt(text, offset, checkOptions(uri, settings)).filter((d) => !shown.has(key(d)));
}
