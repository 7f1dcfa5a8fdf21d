/** The outline: chain → profiles, inputs, steps, tests (with their expectations). */
import { DocumentSymbolRequest, SymbolKind, type DocumentSymbol, type SymbolInformation } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { outline, type OutlineKind, type OutlineSymbol } from '../core/language/outline';
import { COI_SELECTOR, dynamicTextDocument, withAnalysis, type Feature } from './context';
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
  capabilities: () => ({ documentSymbolProvider: { label: 'CoI' } }),
  dynamic: {
    supported: (caps) => dynamicTextDocument(caps, 'documentSymbol'),
    register: (_ctx, r) => r.add(DocumentSymbolRequest.type, { documentSelector: COI_SELECTOR, label: 'CoI' }),
  },
  install(ctx) {
    ctx.connection.onDocumentSymbol((params, token) =>
      withAnalysis(ctx, 'Outline', params, token, ({ document, analysis }): DocumentSymbol[] | SymbolInformation[] => {
        const symbols = outline(analysis.file);
        if (ctx.clientCapabilities.textDocument?.documentSymbol?.hierarchicalDocumentSymbolSupport === false) {
          return flatten(document, symbols);
        }
        return symbols.map((s) => toDocumentSymbol(document, s));
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

function flatten(document: TextDocument, symbols: readonly OutlineSymbol[], container?: string): SymbolInformation[] {
  return symbols.flatMap((s) => [
    { name: s.name, kind: SYMBOL_KINDS[s.kind], location: { uri: document.uri, range: rangeOf(document, s.selectionSpan) }, ...(container ? { containerName: container } : {}) },
    ...flatten(document, s.children, s.name),
  ]);
}
