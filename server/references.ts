/** Find references (and document highlights, which are the same question). */
import { DocumentHighlightKind, DocumentHighlightRequest, ReferencesRequest, type DocumentHighlight, type Location } from 'vscode-languageserver/node';
import { occurrencesAt } from '../core/language';
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
        ];
      }),
    );
  },
};
