/**
 * A cap on the problems reported for one document. Random bytes give tens of thousands
 * of diagnostics; an editor then spends seconds drawing squiggles nobody reads. Past the
 * cap, one more diagnostic says how many were left out (as other language servers do).
 * Errors are kept before warnings, warnings before the rest, each in source order.
 */
import type { Diagnostic, Severity } from '../syntax/ast';

export const MAX_DIAGNOSTICS_PER_DOCUMENT = 1000;

/** The code of the "N more problems" note (documented in docs/format.md, "Diagnostics"). */
export const LEFT_OUT_CODE = 'COI000';

const RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2, hint: 3 };

export function capDiagnostics(diagnostics: readonly Diagnostic[], max = MAX_DIAGNOSTICS_PER_DOCUMENT): readonly Diagnostic[] {
  if (diagnostics.length <= max) return diagnostics;
  const kept = diagnostics
    .map((diagnostic, index) => ({ diagnostic, index }))
    .sort((a, b) => RANK[a.diagnostic.severity] - RANK[b.diagnostic.severity] || a.index - b.index)
    .slice(0, max)
    .sort((a, b) => a.index - b.index)
    .map((entry) => entry.diagnostic);
  const left = diagnostics.length - max;
  const last = kept.at(-1);
  const at = last === undefined ? { start: 0, end: 0 } : { start: last.span.start, end: last.span.start };
  return [...kept, { code: LEFT_OUT_CODE, severity: 'info', message: `${left.toLocaleString('en-US')} more problem${left === 1 ? ' is' : 's are'} not shown: ${max.toLocaleString('en-US')} of ${diagnostics.length.toLocaleString('en-US')} are, errors first. \`coi check\` lists them all.`, span: at }];
}
