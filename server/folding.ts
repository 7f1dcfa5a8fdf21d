/** Folding ranges: blocks, text blocks, lists, comment runs and `# region` markers. */
import { FoldingRangeKind, FoldingRangeRequest, type FoldingRange } from 'vscode-languageserver/node';
import { foldingRegions } from '../core/language';
import { documentCapability, type Feature, withAnalysis } from './context';

export const folding: Feature = {
  registrations: [documentCapability('foldingRange', FoldingRangeRequest.type, { foldingRangeProvider: true }, {})],
  install(ctx) {
    ctx.connection.onFoldingRanges((params, token) =>
      withAnalysis(ctx, 'Folding', params, token, ({ analysis }): FoldingRange[] => {
        // Core's regions are whole lines already, whatever the client's lineFoldingOnly says.
        return foldingRegions(analysis.file, analysis.text).map((r) => ({
          startLine: r.startLine,
          endLine: r.endLine,
          ...(r.kind === 'comment' ? { kind: FoldingRangeKind.Comment } : { kind: FoldingRangeKind.Region }),
        }));
      }),
    );
  },
};
