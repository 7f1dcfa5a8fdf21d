/**
 * Hover: for a step header, its resolved input, task, contract and composability; for a reference, the
 * target's summary; and the problems at the cursor that a capped Problems list left out.
 */
import { HoverRequest, MarkupKind, type Hover } from 'vscode-languageserver/node';
import { hoverAt } from '../core/language';
import { analysisFor, documentCapability, type Feature, guarded, throwIfCancelled } from './context';
import { rangeOf } from './convert';

export const hover: Feature = {
  registrations: [documentCapability('hover', HoverRequest.type, { hoverProvider: true }, {})],
  install(ctx) {
    ctx.connection.onHover(async (params, token) => {
      const settings = await ctx.settings.get(params.textDocument.uri);
      return guarded(ctx, 'Hover', token, (): Hover | null => {
        // Looked up after the await: an edit may have come in meanwhile, and the document
        // object changes in place, so its analysis must be taken together with it.
        const found = analysisFor(ctx, params.textDocument.uri);
        if (!found) return null;
        const { document, analysis } = found;
        const offset = document.offsetAt(params.position);
        const check = analysis.check(settings);
        throwIfCancelled(token);
        // In a file with more problems than the list keeps, the ones at the cursor that it left out are explained here.
        const notShown = settings.diagnostics.enable ? analysis.problemsNotShownAt(settings, offset) : [];
        throwIfCancelled(token);
        const result = hoverAt(analysis.file, analysis.index, offset, { diagnostics: check.diagnostics, chain: check.chain, composability: settings.composability, notShown });
        if (!result) return null;
        return { contents: { kind: MarkupKind.Markdown, value: result.markdown }, range: rangeOf(document, result.span) };
      });
    });
  },
};
