/**
 * Semantic tokens: what the TextMate grammar cannot know — which words are step ids,
 * inputs, profiles (declared or referenced), contract kinds, matchers and labels.
 */
import { FINAL_OUTPUT } from '../chain/tests';
import type { CoiFile, ContractNode, OptionNode, Span, Value } from '../syntax/ast';
import type { SymbolIndex, SymbolKind } from './symbols';

export const SEMANTIC_TOKEN_TYPES = ['function', 'parameter', 'class', 'type', 'property', 'enumMember', 'keyword', 'method'] as const;
export const SEMANTIC_TOKEN_MODIFIERS = ['declaration', 'defaultLibrary'] as const;
export type SemanticTokenType = (typeof SEMANTIC_TOKEN_TYPES)[number];
export type SemanticTokenModifier = (typeof SEMANTIC_TOKEN_MODIFIERS)[number];

export interface SemanticToken {
  readonly span: Span;
  readonly type: SemanticTokenType;
  readonly modifiers: readonly SemanticTokenModifier[];
}

const SYMBOL_TYPES: Record<SymbolKind, SemanticTokenType> = { step: 'function', input: 'parameter', profile: 'class' };

export function semanticTokens(file: CoiFile, index: SymbolIndex): SemanticToken[] {
  const out: SemanticToken[] = [];
  const add = (span: Span, type: SemanticTokenType, ...modifiers: SemanticTokenModifier[]): void => {
    if (span.end > span.start) out.push({ span, type, modifiers });
  };
  for (const d of index.definitions) add(d.nameSpan, SYMBOL_TYPES[d.kind], 'declaration');
  for (const r of index.references) if (r.target) add(r.span, SYMBOL_TYPES[r.target.kind]);
  const contract = (c: ContractNode | undefined): void => {
    if (!c) return;
    if (c.contractKind) add(c.kindName.span, 'type', 'defaultLibrary');
    for (const item of c.labels?.items ?? []) labelValue(item);
    options(c.options);
  };
  const options = (list: readonly OptionNode[]): void => {
    for (const o of list) add(o.key.span, 'property');
  };
  const labelValue = (v: Value | undefined): void => {
    if (v?.kind === 'word') add(v.span, 'enumMember');
    if (v?.kind === 'list') for (const item of v.items) labelValue(item);
  };
  for (const decl of file.declarations) {
    switch (decl.kind) {
      case 'model':
        for (const p of decl.properties) add(p.key.span, 'property');
        break;
      case 'input':
        contract(decl.contract);
        break;
      case 'step':
        contract(decl.output?.contract);
        for (const p of decl.properties) add(p.key.span, 'property');
        break;
      case 'test':
        for (const p of decl.properties) add(p.key.span, 'property');
        for (const e of decl.expects) {
          if (e.target?.name === FINAL_OUTPUT && !index.steps.has(FINAL_OUTPUT)) add(e.target.span, 'keyword', 'defaultLibrary');
          if (e.matcher && e.matcherName) add(e.matcherName.span, 'method', 'defaultLibrary');
          if (e.matcher === 'label' || e.matcher === 'one_of') labelValue(e.value);
          options(e.options);
        }
        break;
      default:
        break;
    }
  }
  return out.sort((a, b) => a.span.start - b.span.start);
}
