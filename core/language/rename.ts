/**
 * Rename of step ids, input names and profile names across a file. Only identifiers are
 * edited: instruction text, strings and comments are never touched, even when they spell
 * the same word. A name that is also written in text the parser skipped after a syntax
 * error is not renamed: that use is in no reference, so a rename would leave it behind.
 */
import { FINAL_OUTPUT } from '../chain/tests';
import type { CoiFile, Span } from '../syntax/ast';
import type { TextEdit } from '../syntax/formatter';
import { isIdentifier } from '../syntax/lexer';
import { LineMap } from '../syntax/lineMap';
import { occurrencesAt, skippedUses, type SymbolIndex, type SymbolReference } from './symbols';

const BOOLEAN_WORDS: ReadonlySet<string> = new Set(['true', 'false']);

export { applyEdits, type TextEdit } from '../syntax/formatter';

export type PrepareRenameResult = { readonly span: Span; readonly placeholder: string } | { readonly error: string };
export type RenameResult = { readonly edits: readonly TextEdit[] } | { readonly error: string };

/** The parsed document, for the text its parse skipped (without it, that text is not looked at). */
export interface RenameSource {
  readonly file: CoiFile;
  readonly text: string;
}

export function prepareRename(index: SymbolIndex, offset: number, source?: RenameSource): PrepareRenameResult | undefined {
  const occ = occurrencesAt(index, offset);
  if (!occ) return undefined;
  const unsafe = source && skippedUse(source, occ.name);
  if (unsafe) return { error: unsafe };
  return { span: occ.spanAtCursor, placeholder: occ.name };
}

export function rename(index: SymbolIndex, offset: number, newName: string, source?: RenameSource): RenameResult {
  const occ = occurrencesAt(index, offset);
  if (!occ) return { error: 'Only step ids, input names and model profile names can be renamed.' };
  const unsafe = source && skippedUse(source, occ.name);
  if (unsafe) return { error: unsafe };
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
  const givenTwice = testGivingBoth(occ.references, newName);
  if (givenTwice !== undefined) return { error: `${givenTwice} already gives '${newName}': the rename would give it twice.` };
  const spans = [
    ...(occ.definition ? [occ.definition.nameSpan] : []),
    ...occ.duplicates.map((d) => d.nameSpan),
    ...occ.references.map((r) => r.span),
  ].sort((a, b) => a.start - b.start);
  return { edits: spans.map((span) => ({ span, newText: newName })) };
}

/** The test (`The test "NAME"`) where a renamed `given` would meet one of `newName` already there (COI404). */
function testGivingBoth(renamed: readonly SymbolReference[], newName: string): string | undefined {
  for (const ref of renamed) {
    const test = ref.role === 'given' && ref.container?.kind === 'test' ? ref.container : undefined;
    if (test?.givens.some((g) => g.name?.name === newName)) {
      const name = test.name === undefined ? undefined : test.name.kind === 'identifier' ? test.name.name : test.name.value;
      return name === undefined ? 'The test' : `The test "${name}"`;
    }
  }
  return undefined;
}

/**
 * Why renaming `name` is not safe: it is written as a name in text the parser skipped (a line
 * with a syntax error, a block it could not place, lines an unterminated text block
 * swallowed), where no reference records it. Strings and comments there do not count.
 */
function skippedUse(source: RenameSource, name: string): string | undefined {
  const use = skippedUses(source.file, source.text, name)[0];
  if (use === undefined) return undefined;
  const region = source.file.skipped.find((span) => span.start <= use.start && use.end <= span.end) ?? use;
  const lines = new LineMap(source.text);
  const line = lines.positionAt(use.start).line + 1;
  const errorLine = lines.positionAt(region.start).line + 1;
  const where = errorLine === line ? `a syntax error on that line` : `the syntax error on line ${errorLine}`;
  return `Cannot rename '${name}' yet: the '${name}' on line ${line} is in text the parser skipped after ${where}, so no reference records it and a rename would leave it behind. Fix the syntax error first.`;
}
