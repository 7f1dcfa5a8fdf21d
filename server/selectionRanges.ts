/** Selection ranges (expand selection): identifier → member → block → declaration → file. */
import { SelectionRangeRequest, type SelectionRange } from 'vscode-languageserver/node';
import { selectionSpans } from '../core/language';
import { documentCapability, type Feature, throwIfCancelled, withAnalysis } from './context';
import { rangeOf } from './convert';

export const selectionRanges: Feature = {
  registrations: [documentCapability('selectionRange', SelectionRangeRequest.type, { selectionRangeProvider: true }, {})],
  install(ctx) {
    ctx.connection.onSelectionRanges((params, token) =>
      withAnalysis(ctx, 'Selection ranges', params, token, ({ document, analysis }): SelectionRange[] => {
        return params.positions.map((position) => {
          throwIfCancelled(token);
          const spans = selectionSpans(analysis.file, document.offsetAt(position));
          let parent: SelectionRange | undefined;
          for (const span of [...spans].reverse()) parent = { range: rangeOf(document, span), ...(parent ? { parent } : {}) };
          return parent ?? { range: { start: position, end: position } };
        });
      }),
    );
  },
};
