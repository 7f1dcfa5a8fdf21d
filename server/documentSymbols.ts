/** The outline: chain → profiles, inputs, steps, tests (with their expectations). */
import { DocumentSymbolRequest, SymbolKind, type DocumentSymbol, type Range, type SymbolInformation } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { flatSymbols, outline, type FlatSymbol, type OutlineKind, type OutlineSymbol } from '../core/language';
import { documentCapability, type Feature, withAnalysis } from './context';
import { rangeOf } from './convert';

export const SYMBOL_KINDS: Record<OutlineKind, SymbolKind> = {
  chain: SymbolKind.Module,
  model: SymbolKind.Class,
  input: SymbolKind.Variable,
  step: SymbolKind.Function,
  test: SymbolKind.Event,
  expect: SymbolKind.Boolean,
};

export const documentSymbols: Feature = {
  registrations: [documentCapability('documentSymbol', DocumentSymbolRequest.type, { documentSymbolProvider: { label: 'CoI' } }, { label: 'CoI' })],
  install(ctx) {
    ctx.connection.onDocumentSymbol((params, token) =>
      withAnalysis(ctx, 'Outline', params, token, ({ document, analysis }): DocumentSymbol[] | SymbolInformation[] => {
        if (ctx.clientCapabilities.textDocument?.documentSymbol?.hierarchicalDocumentSymbolSupport === false) {
          return flatSymbols(analysis.file, { expects: true }).map((s) => symbolInformation(s, document.uri, rangeOf(document, s.span)));
        }
        return outline(analysis.file).map((s) => toDocumentSymbol(document, s));
      }),
    );
  },
};

function toDocumentSymbol(document: TextDocument, s: OutlineSymbol): DocumentSymbol {
  return {
    name: s.name,
    ...(s.detail ? { detail: s.detail } : {}),
    kind: SYMBOL_KINDS[s.kind],
    range: rangeOf(document, s.span),
    selectionRange: rangeOf(document, s.selectionSpan),
    children: s.children.map((c) => toDocumentSymbol(document, c)),
  };
}

/** A flat symbol as LSP SymbolInformation (flat outlines and workspace search). */
export function symbolInformation(s: FlatSymbol, uri: string, range: Range): SymbolInformation {
  return { name: s.name, kind: SYMBOL_KINDS[s.kind], location: { uri, range }, ...(s.containerName ? { containerName: s.containerName } : {}) };
}
