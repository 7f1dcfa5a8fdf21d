/** Completion: keywords, ids valid at the cursor, contracts and options, profiles, labels, matchers, snippets. */
import {
  CompletionItemKind,
  CompletionRequest,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type CompletionList,
} from 'vscode-languageserver/node';
import { completionsAt, type CandidateKind } from '../core/language';
import { documentCapability, type Feature, withAnalysis } from './context';
import { rangeOf } from './convert';

const ITEM_KINDS: Record<CandidateKind, CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword,
  step: CompletionItemKind.Function,
  input: CompletionItemKind.Variable,
  profile: CompletionItemKind.Class,
  contract: CompletionItemKind.TypeParameter,
  option: CompletionItemKind.Property,
  matcher: CompletionItemKind.Operator,
  label: CompletionItemKind.EnumMember,
  value: CompletionItemKind.Value,
  property: CompletionItemKind.Property,
  snippet: CompletionItemKind.Snippet,
};

const TRIGGERS = [' ', '=', ',', '['];

export const completion: Feature = {
  registrations: [documentCapability('completion', CompletionRequest.type, { completionProvider: { triggerCharacters: TRIGGERS } }, { triggerCharacters: TRIGGERS })],
  install(ctx) {
    const snippets = (): boolean => ctx.clientCapabilities.textDocument?.completion?.completionItem?.snippetSupport === true;
    ctx.connection.onCompletion((params, token) =>
      withAnalysis(ctx, 'Completion', params, token, ({ document, analysis }): CompletionList => {
        const offset = document.offsetAt(params.position);
        const result = completionsAt(analysis.file, analysis.text, offset);
        const range = rangeOf(document, result.replace);
        const items: CompletionItem[] = [];
        for (const offered of result.candidates) {
          // A client without snippets gets the plain keyword a snippet stands for, or nothing.
          const c = offered.snippet === true && !snippets() ? offered.plain : offered;
          if (c === undefined) continue;
          items.push({
            label: c.label,
            kind: ITEM_KINDS[c.kind],
            ...(c.detail ? { detail: c.detail } : {}),
            ...(c.documentation ? { documentation: { kind: MarkupKind.Markdown, value: c.documentation } } : {}),
            ...(c.sortText ? { sortText: c.sortText } : {}),
            textEdit: { range, newText: c.insertText ?? c.label },
            ...(c.snippet ? { insertTextFormat: InsertTextFormat.Snippet } : {}),
          });
        }
        return { isIncomplete: false, items };
      }),
    );
  },
};
