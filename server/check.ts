/** The bridge to core's checker: settings → check options, one outcome per document version. */
import type { CoiFile, Diagnostic } from '../core/syntax/ast';
import { parse } from '../core/syntax/parser';
import type { CoiServerSettings } from './protocol';

export interface CheckOutcome {
  readonly file: CoiFile;
  readonly parseDiagnostics: readonly Diagnostic[];
  /** Every diagnostic: syntax, structure and composability. */
  readonly diagnostics: readonly Diagnostic[];
}

export function runCheck(text: string, _settings: CoiServerSettings, parsed?: { file: CoiFile; diagnostics: readonly Diagnostic[] }): CheckOutcome {
  const { file, diagnostics } = parsed ?? parse(text);
  return { file, parseDiagnostics: diagnostics, diagnostics };
}
