/** Go to definition: from a `from`/`expect`/`given`/`model` reference to the step, input or profile. */
import { DefinitionRequest, type LocationLink } from 'vscode-languageserver/node';
import { occurrencesAt } from '../core/language';
import { documentCapability, type Feature, withAnalysis } from './context';
import { rangeOf } from './convert';

export const definition: Feature = {
  registrations: [documentCapability('definition', DefinitionRequest.type, { definitionProvider: true }, {})],
  install(ctx) {
    ctx.connection.onDefinition((params, token) =>
      withAnalysis(ctx, 'Go to definition', params, token, ({ document, analysis }): LocationLink[] | null => {
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
