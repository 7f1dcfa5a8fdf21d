/** Semantic tokens (full document and range) from core's classification. */
import { SemanticTokensBuilder, SemanticTokensRegistrationType, type SemanticTokens, type SemanticTokensLegend } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { SEMANTIC_TOKEN_MODIFIERS, SEMANTIC_TOKEN_TYPES } from '../core/language';
import type { Span } from '../core/syntax';
import type { Analysis } from './analysis';
import { analysisFor, documentCapability, type Feature, guarded } from './context';
import { spanOf } from './convert';

export const LEGEND: SemanticTokensLegend = { tokenTypes: [...SEMANTIC_TOKEN_TYPES], tokenModifiers: [...SEMANTIC_TOKEN_MODIFIERS] };

function encode(document: TextDocument, analysis: Analysis, within?: Span): SemanticTokens {
  const builder = new SemanticTokensBuilder();
  for (const t of analysis.tokens) {
    if (within && (t.span.end < within.start || t.span.start > within.end)) continue;
    const start = document.positionAt(t.span.start);
    const modifiers = t.modifiers.reduce((bits, m) => bits | (1 << SEMANTIC_TOKEN_MODIFIERS.indexOf(m)), 0);
    builder.push(start.line, start.character, t.span.end - t.span.start, SEMANTIC_TOKEN_TYPES.indexOf(t.type), modifiers);
  }
  return builder.build();
}

export const semanticTokens: Feature = {
  registrations: [documentCapability('semanticTokens', SemanticTokensRegistrationType.type, { semanticTokensProvider: { legend: LEGEND, full: true, range: true } }, { legend: LEGEND, full: true, range: true })],
  install(ctx) {
    ctx.connection.languages.semanticTokens.on((params, token) =>
      guarded(ctx, 'Semantic tokens', token, () => {
        const found = analysisFor(ctx, params.textDocument.uri);
        return found ? encode(found.document, found.analysis) : { data: [] };
      }),
    );
    ctx.connection.languages.semanticTokens.onRange((params, token) =>
      guarded(ctx, 'Semantic tokens', token, () => {
        const found = analysisFor(ctx, params.textDocument.uri);
        return found ? encode(found.document, found.analysis, spanOf(found.document, params.range)) : { data: [] };
      }),
    );
  },
};
