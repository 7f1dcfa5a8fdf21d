/**
 * Rename of step ids, input names and profile names across a file. Only identifiers are
 * edited: instruction text, strings and comments are never touched, even when they spell
 * the same word.
 */
import { FINAL_OUTPUT } from '../chain/tests';
import type { Span } from '../syntax/ast';
import type { TextEdit } from '../syntax/formatter';
import { isIdentifier } from '../syntax/lexer';
import { occurrencesAt, type SymbolIndex } from './symbols';

const BOOLEAN_WORDS: ReadonlySet<string> = new Set(['true', 'false']);

export { applyEdits, type TextEdit } from '../syntax/formatter';

export type PrepareRenameResult = { readonly span: Span; readonly placeholder: string } | { readonly error: string };
export type RenameResult = { readonly edits: readonly TextEdit[] } | { readonly error: string };

export function prepareRename(index: SymbolIndex, offset: number): PrepareRenameResult | undefined {
  const occ = occurrencesAt(index, offset);
  if (!occ) return undefined;
  return { span: occ.spanAtCursor, placeholder: occ.name };
}

export function rename(index: SymbolIndex, offset: number, newName: string): RenameResult {
  const occ = occurrencesAt(index, offset);
  if (!occ) return { error: 'Only step ids, input names and model profile names can be renamed.' };
  if (!isIdentifier(newName)) {
    return { error: `'${newName}' is not a valid name: use letters, digits, '_' and '-', starting with a letter or '_'.` };
  }
  if (newName === occ.name) return { edits: [] };
  const kind = occ.definition?.kind;
  // A profile is referenced by a bare word value (`model NAME`), which `true`/`false` are not:
  // they read as booleans there. Steps and inputs are referenced by ids, where `output` is reserved.
  const profile = kind === 'profile' || (kind === undefined && occ.references.some((r) => r.role === 'model'));
  if (!profile && newName === FINAL_OUTPUT) {
    return { error: `'${FINAL_OUTPUT}' is reserved: \`expect ${FINAL_OUTPUT}\` means the chain's final output.` };
  }
  if (profile && BOOLEAN_WORDS.has(newName)) {
    return { error: `'${newName}' cannot name a model profile: \`model ${newName}\` reads as a boolean, not a profile name.` };
  }
  // Steps and inputs share one namespace (`from a, b` names either).
  const taken =
    kind === 'profile' ? index.profiles.has(newName) : kind !== undefined && (index.steps.has(newName) || index.inputs.has(newName));
  if (taken) return { error: `'${newName}' is already defined in this file.` };
  const spans = [
    ...(occ.definition ? [occ.definition.nameSpan] : []),
    ...occ.duplicates.map((d) => d.nameSpan),
    ...occ.references.map((r) => r.span),
  ].sort((a, b) => a.start - b.start);
  return { edits: spans.map((span) => ({ span, newText: newName })) };
}
