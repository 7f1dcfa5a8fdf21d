/** The bridge to core's checker: settings → check options, one outcome per document version. */
import type { Chain } from '../core/chain';
import { checkParsed, readTextIfPossible } from '../core/check';
import { type CoiFile, type Diagnostic, parse, type ParseResult } from '../core/syntax';
import type { CoiServerSettings } from './protocol';
import { filePathOf } from './uris';

export interface CheckOutcome {
  readonly file: CoiFile;
  readonly parsed: ParseResult;
  readonly chain: Chain;
  /** The problems (syntax, structure, composability, tests, profiles): core's capped list, with its COI000 note. */
  readonly diagnostics: readonly Diagnostic[];
}

export function runCheck(uri: string, text: string, settings: CoiServerSettings, parsed: ParseResult = parse(text)): CheckOutcome {
  const documentPath = filePathOf(uri);
  const result = checkParsed(parsed, {
    ...(documentPath ? { documentPath, readFile: readTextIfPossible } : {}),
    composability: { enable: settings.composability.enable, warnings: settings.composability.warnings },
  });
  return { file: parsed.file, parsed, chain: result.chain, diagnostics: result.diagnostics };
}
