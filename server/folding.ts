/** Folding ranges: blocks, text blocks, lists, comment runs and `# region` markers. */
import { FoldingRangeKind, FoldingRangeRequest, type FoldingRange } from 'vscode-languageserver/node';
import { foldingRegions } from '../core/language/folding';
import { COI_SELECTOR, dynamicTextDocument, withAnalysis, type Feature } from './context';

export const folding: Feature = {
  capabilities: () => ({ foldingRangeProvider: true }),
  dynamic: {
    supported: (caps) => dynamicTextDocument(caps, 'foldingRange'),
    register: (_ctx, r) => r.add(FoldingRangeRequest.type, { documentSelector: COI_SELECTOR }),
  },
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
