/** The bridge to core's checker: settings → check options, one outcome per document version. */
import type { Chain } from '../core/chain';
import { checkParsed, readTextIfPossible } from '../core/check';
import { type CoiFile, type Diagnostic, parse } from '../core/syntax';
import type { CoiServerSettings } from './protocol';
import { filePathOf } from './uris';

export interface CheckOutcome {
  readonly file: CoiFile;
  readonly parseDiagnostics: readonly Diagnostic[];
  readonly chain: Chain;
  /** Every diagnostic: syntax, structure, composability, tests, profiles. */
  readonly diagnostics: readonly Diagnostic[];
}

export function runCheck(uri: string, text: string, settings: CoiServerSettings, parsed?: { file: CoiFile; diagnostics: readonly Diagnostic[] }): CheckOutcome {
  const { file, diagnostics: parseDiagnostics } = parsed ?? parse(text);
  const documentPath = filePathOf(uri);
  const result = checkParsed(file, parseDiagnostics, {
    ...(documentPath ? { documentPath, readFile: readTextIfPossible } : {}),
    composability: { enable: settings.composability.enable, warnings: settings.composability.warnings },
  });
  return { file, parseDiagnostics, chain: result.chain, diagnostics: result.diagnostics };
}
