/** Quick fixes for diagnostics with an obvious fix (from core/language/quickFixes). */
import { CodeActionKind, CodeActionRequest, type CodeAction } from 'vscode-languageserver/node';
import { quickFixes } from '../core/language/quickFixes';
import type { Diagnostic } from '../core/syntax/ast';
import { COI_SELECTOR, dynamicTextDocument, withAnalysis, type Feature } from './context';
import { lspEdits, spanOf } from './convert';

const KINDS = [CodeActionKind.QuickFix];

export const codeActions: Feature = {
  capabilities: () => ({ codeActionProvider: { codeActionKinds: KINDS } }),
  dynamic: {
    supported: (caps) => dynamicTextDocument(caps, 'codeAction'),
    register: (_ctx, r) => r.add(CodeActionRequest.type, { documentSelector: COI_SELECTOR, codeActionKinds: KINDS }),
  },
  install(ctx) {
    ctx.connection.onCodeAction((params, token) =>
      withAnalysis(ctx, 'Code actions', params, token, ({ document, analysis }): CodeAction[] => {
        if (params.context.only && !params.context.only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === '')) return [];
        const actions: CodeAction[] = [];
        for (const lsp of params.context.diagnostics) {
          if (lsp.source !== 'coi' || typeof lsp.code !== 'string') continue;
          const diagnostic: Diagnostic = {
            code: lsp.code,
            severity: 'error',
            message: typeof lsp.message === 'string' ? lsp.message : lsp.message.value,
            span: spanOf(document, lsp.range),
            ...(lsp.data && typeof lsp.data === 'object' ? { data: lsp.data as Record<string, unknown> } : {}),
          };
          for (const fix of quickFixes(analysis.file, analysis.text, diagnostic)) {
            actions.push({
              title: fix.title,
              kind: CodeActionKind.QuickFix,
              diagnostics: [lsp],
              ...(fix.preferred ? { isPreferred: true } : {}),
              edit: { changes: { [document.uri]: lspEdits(document, fix.edits) } },
            });
          }
        }
        return actions;
      }),
    );
  },
};
