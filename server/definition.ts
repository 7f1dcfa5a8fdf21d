/** Go to definition: from a `from`/`expect`/`given`/`model` reference to the step, input or profile. */
import { DefinitionRequest, type LocationLink } from 'vscode-languageserver/node';
import { occurrencesAt } from '../core/language/symbols';
import { analysisFor, COI_SELECTOR, dynamicTextDocument, guarded, type Feature } from './context';
import { rangeOf } from './convert';

export const definition: Feature = {
  capabilities: () => ({ definitionProvider: true }),
  dynamic: {
    supported: (caps) => dynamicTextDocument(caps, 'definition'),
    register: (_ctx, r) => r.add(DefinitionRequest.type, { documentSelector: COI_SELECTOR }),
  },
  install(ctx) {
    ctx.connection.onDefinition((params, token) =>
      guarded(ctx, 'Go to definition', token, (): LocationLink[] | null => {
        const found = analysisFor(ctx, params.textDocument.uri);
        if (!found) return null;
        const { document, analysis } = found;
        const occ = occurrencesAt(analysis.index, document.offsetAt(params.position));
        const target = occ?.definition;
        if (!occ || !target) return null;
        return [
          {
            originSelectionRange: rangeOf(document, occ.spanAtCursor),
            targetUri: document.uri,
            targetRange: rangeOf(document, target.declarationSpan),
            targetSelectionRange: rangeOf(document, target.nameSpan),
          },
        ];
      }),
    );
  },
};
