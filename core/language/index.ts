/** core/language: what the adapters (client, server, CLI) use from this folder. */
export { completionsAt } from './completion';
export type { CandidateKind } from './completion';
export { foldingRegions } from './folding';
export { hoverAt } from './hover';
export { flatSymbols, fuzzyMatches, outline } from './outline';
export type { FlatSymbol, OutlineKind, OutlineSymbol } from './outline';
export { quickFixes } from './quickFixes';
export { prepareRename, rename } from './rename';
export { selectionSpans } from './selection';
export { SEMANTIC_TOKEN_MODIFIERS, SEMANTIC_TOKEN_TYPES, semanticTokens } from './semanticTokens';
export type { SemanticToken } from './semanticTokens';
export { finalOutputAt, indexSymbols, occurrencesAt, skippedUses } from './symbols';
export type { SymbolIndex } from './symbols';
