/**
 * Find references (and document highlights, which are the same question). Uses written in
 * text the parser skipped after a syntax error are in no reference; they are listed too (as
 * text occurrences among the highlights), so a search finds every place the name is used —
 * the same places rename refuses to leave behind.
 */
import { DocumentHighlightKind, DocumentHighlightRequest, ReferencesRequest, type DocumentHighlight, type Location } from 'vscode-languageserver/node';
import { occurrencesAt, skippedUses } from '../core/language';
import { documentCapability, type Feature, withAnalysis } from './context';
import { rangeOf } from './convert';

export const references: Feature = {
  registrations: [
    documentCapability('references', ReferencesRequest.type, { referencesProvider: true }, {}),
    documentCapability('documentHighlight', DocumentHighlightRequest.type, { documentHighlightProvider: true }, {}),
  ],
  install(ctx) {
    ctx.connection.onReferences((params, token) =>
      withAnalysis(ctx, 'Find references', params, token, ({ document, analysis }): Location[] | null => {
        const occ = occurrencesAt(analysis.index, document.offsetAt(params.position));
        if (!occ) return null;
        const spans = [
          ...(params.context.includeDeclaration && occ.definition ? [occ.definition.nameSpan, ...occ.duplicates.map((d) => d.nameSpan)] : []),
          ...occ.references.map((r) => r.span),
          ...skippedUses(analysis.file, analysis.text, occ.name),
        ].sort((a, b) => a.start - b.start);
        return spans.map((span) => ({ uri: document.uri, range: rangeOf(document, span) }));
      }),
    );
    ctx.connection.onDocumentHighlight((params, token) =>
      withAnalysis(ctx, 'Highlight', params, token, ({ document, analysis }): DocumentHighlight[] | null => {
        const occ = occurrencesAt(analysis.index, document.offsetAt(params.position));
        if (!occ) return null;
        return [
          ...(occ.definition ? [occ.definition, ...occ.duplicates].map((d) => ({ range: rangeOf(document, d.nameSpan), kind: DocumentHighlightKind.Write })) : []),
          ...occ.references.map((r) => ({ range: rangeOf(document, r.span), kind: DocumentHighlightKind.Read })),
          ...skippedUses(analysis.file, analysis.text, occ.name).map((span) => ({ range: rangeOf(document, span), kind: DocumentHighlightKind.Text })),
        ];
      }),
    );
  },
};
