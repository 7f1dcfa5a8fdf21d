/** Go to definition: from a `from`/`expect`/`given`/`model` reference to the step, input or profile (`expect output`: the last step). */
import { DefinitionRequest, type LocationLink } from 'vscode-languageserver/node';
import { finalOutputAt, occurrencesAt } from '../core/language';
import { documentCapability, type Feature, withAnalysis } from './context';
import { rangeOf } from './convert';

export const definition: Feature = {
  registrations: [documentCapability('definition', DefinitionRequest.type, { definitionProvider: true }, {})],
  install(ctx) {
    ctx.connection.onDefinition((params, token) =>
      withAnalysis(ctx, 'Go to definition', params, token, ({ document, analysis }): LocationLink[] | null => {
        const offset = document.offsetAt(params.position);
        const occ = occurrencesAt(analysis.index, offset);
        // `expect output` means the last step's output: its definition is that step.
        const final = occ ? undefined : finalOutputAt(analysis.file, analysis.index, offset);
        const target = occ?.definition ?? final?.step;
        const origin = occ?.spanAtCursor ?? final?.span;
        if (!target || !origin) return null;
        return [
          {
            originSelectionRange: rangeOf(document, origin),
            targetUri: document.uri,
            targetRange: rangeOf(document, target.declarationSpan),
            targetSelectionRange: rangeOf(document, target.nameSpan),
          },
        ];
      }),
    );
  },
};
