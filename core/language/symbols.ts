/**
 * The names a `.coi` file defines (steps, inputs, model profiles) and every place that
 * refers to them. Navigation, rename, highlights, hover and semantic tokens all read this
 * one index, so they agree on what a name means.
 */
import { FINAL_OUTPUT } from '../chain/tests';
import type { CoiFile, Identifier, InputDecl, ModelDecl, Span, StepDecl, TestDecl, Value } from '../syntax/ast';
import { spanTouches } from '../syntax/visit';
import { lexInto, T } from '../syntax/lexer';

export type SymbolKind = 'step' | 'input' | 'profile';

export interface SymbolDefinition {
  readonly kind: SymbolKind;
  readonly name: string;
  /** The identifier that names it. */
  readonly nameSpan: Span;
  /** The whole declaration. */
  readonly declarationSpan: Span;
  readonly declaration: StepDecl | InputDecl | ModelDecl;
}

/** Where a reference is written: `from a`, `expect a ...`, `given a = ...`, `model a`. */
export type ReferenceRole = 'from' | 'expect' | 'given' | 'model';

export interface SymbolReference {
  readonly name: string;
  readonly span: Span;
  readonly role: ReferenceRole;
  /** What the name resolves to; absent when nothing by that name is defined. */
  readonly target?: SymbolDefinition;
  /** The step whose `from` line holds the reference, or the test holding an expect/given. */
  readonly container?: StepDecl | TestDecl;
}

export interface SymbolIndex {
  readonly definitions: readonly SymbolDefinition[];
  readonly references: readonly SymbolReference[];
  readonly steps: ReadonlyMap<string, SymbolDefinition>;
  readonly inputs: ReadonlyMap<string, SymbolDefinition>;
  readonly profiles: ReadonlyMap<string, SymbolDefinition>;
}

export function indexSymbols(file: CoiFile): SymbolIndex {
  const definitions: SymbolDefinition[] = [];
  const steps = new Map<string, SymbolDefinition>();
  const inputs = new Map<string, SymbolDefinition>();
  const profiles = new Map<string, SymbolDefinition>();
  const define = (map: Map<string, SymbolDefinition>, def: SymbolDefinition): void => {
    definitions.push(def);
    if (!map.has(def.name)) map.set(def.name, def);
  };
  for (const decl of file.declarations) {
    if (decl.kind === 'step' && decl.id) define(steps, definition('step', decl.id, decl));
    else if (decl.kind === 'input' && decl.name) define(inputs, definition('input', decl.name, decl));
    else if (decl.kind === 'model' && decl.name) define(profiles, definition('profile', decl.name, decl));
  }

  const references: SymbolReference[] = [];
  const refer = (id: Identifier, role: ReferenceRole, target: SymbolDefinition | undefined, container?: StepDecl | TestDecl): void => {
    references.push({ name: id.name, span: id.span, role, ...(target ? { target } : {}), ...(container ? { container } : {}) });
  };
  for (const decl of file.declarations) {
    if (decl.kind === 'step') {
      for (const ref of decl.from?.refs ?? []) refer(ref, 'from', steps.get(ref.name) ?? inputs.get(ref.name), decl);
      for (const prop of decl.properties) profileReference(prop.key.name, prop.values[0], (id) => refer(id, 'model', profiles.get(id.name), decl));
    } else if (decl.kind === 'test') {
      for (const given of decl.givens) if (given.name) refer(given.name, 'given', inputs.get(given.name.name), decl);
      for (const expect of decl.expects) {
        if (expect.target && (expect.target.name !== FINAL_OUTPUT || steps.has(FINAL_OUTPUT))) {
          refer(expect.target, 'expect', steps.get(expect.target.name), decl);
        }
      }
      for (const prop of decl.properties) profileReference(prop.key.name, prop.values[0], (id) => refer(id, 'model', profiles.get(id.name), decl));
    }
  }
  references.sort((a, b) => a.span.start - b.span.start);
  return { definitions, references, steps, inputs, profiles };
}

function definition(kind: SymbolKind, id: Identifier, declaration: StepDecl | InputDecl | ModelDecl): SymbolDefinition {
  return { kind, name: id.name, nameSpan: id.span, declarationSpan: declaration.span, declaration };
}

/** `model NAME` inside a step or a test names a profile (the value is a bare word). */
function profileReference(key: string, value: Value | undefined, onReference: (id: Identifier) => void): void {
  if (key === 'model' && value?.kind === 'word') onReference({ kind: 'identifier', name: value.value, span: value.span });
}

export interface Occurrences {
  readonly name: string;
  readonly definition?: SymbolDefinition;
  /** Every other definition with the same kind and name (duplicates). */
  readonly duplicates: readonly SymbolDefinition[];
  readonly references: readonly SymbolReference[];
  /** The span of the name under the cursor. */
  readonly spanAtCursor: Span;
}

/** The symbol whose name is at `offset` (a definition or a reference) and everywhere it occurs. */
export function occurrencesAt(index: SymbolIndex, offset: number): Occurrences | undefined {
  const def = index.definitions.find((d) => spanTouches(d.nameSpan, offset));
  const ref = def ? undefined : index.references.find((r) => spanTouches(r.span, offset));
  const target = def ?? ref?.target;
  if (!target) {
    if (!ref) return undefined;
    // An unresolved name: its occurrences are the references written the same way.
    const same = index.references.filter((r) => !r.target && r.name === ref.name && r.role === ref.role);
    return { name: ref.name, duplicates: [], references: same, spanAtCursor: ref.span };
  }
  const sameSymbol = (d: SymbolDefinition): boolean => d.kind === target.kind && d.name === target.name;
  const primary = index.definitions.find(sameSymbol) ?? target;
  return {
    name: target.name,
    definition: primary,
    duplicates: index.definitions.filter((d) => sameSymbol(d) && d !== primary),
    references: index.references.filter((r) => r.target !== undefined && sameSymbol(r.target)),
    spanAtCursor: def?.nameSpan ?? ref?.span ?? primary.nameSpan,
  };
}

/**
 * `expect output` at `offset`: the word and the step whose output it means, the chain's last
 * step (none in a file without steps, or whose step named `output` is reported instead).
 */
export function finalOutputAt(file: CoiFile, index: SymbolIndex, offset: number): { readonly span: Span; readonly step: SymbolDefinition } | undefined {
  if (index.steps.has(FINAL_OUTPUT)) return undefined;
  const steps = [...index.steps.values()];
  const last = steps[steps.length - 1];
  for (const decl of file.declarations) {
    if (decl.kind !== 'test' || !spanTouches(decl.span, offset)) continue;
    const target = decl.expects.find((e) => e.target?.name === FINAL_OUTPUT && spanTouches(e.target.span, offset))?.target;
    if (target && last) return { span: target.span, step: last };
  }
  return undefined;
}

/**
 * Where `name` is written as a name in text the parser skipped after a syntax error (a line
 * with an error, a block it could not place, lines an unterminated text block swallowed), in
 * source order. No reference records these uses, yet they are uses a search should find and a
 * rename must not leave behind. Strings and comments there do not count.
 */
export function skippedUses(file: CoiFile, text: string, name: string): Span[] {
  const uses: Span[] = [];
  for (const span of file.skipped) {
    const region = text.slice(span.start, span.end);
    if (!region.includes(name)) continue;
    const { tokens } = lexInto(region, { push: () => undefined });
    for (let i = 0; i < tokens.count; i++) {
      if (tokens.kinds[i] !== T.identifier || tokens.texts[i] !== name) continue;
      const start = span.start + (tokens.starts[i] ?? 0);
      uses.push({ start, end: start + name.length });
    }
  }
  return uses;
}
