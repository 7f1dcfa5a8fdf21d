/** Rename with prepare-rename: ids across the file, never instruction text or strings. */
import { RenameRequest, ResponseError, type WorkspaceEdit } from 'vscode-languageserver/node';
import { prepareRename, rename as renameEdits } from '../core/language';
import { documentCapability, type Feature, withAnalysis } from './context';
import { lspEdits, rangeOf } from './convert';

const INVALID_REQUEST = -32600;

export const rename: Feature = {
  registrations: [documentCapability('rename', RenameRequest.type, { renameProvider: { prepareProvider: true } }, { prepareProvider: true })],
  install(ctx) {
    ctx.connection.onPrepareRename((params, token) =>
      withAnalysis(ctx, 'Prepare rename', params, token, ({ document, analysis }) => {
        const result = prepareRename(analysis.index, document.offsetAt(params.position), analysis);
        if (!result) return new ResponseError(INVALID_REQUEST, 'Only step ids, input names and model profile names can be renamed.');
        if ('error' in result) return new ResponseError(INVALID_REQUEST, result.error);
        return { range: rangeOf(document, result.span), placeholder: result.placeholder };
      }),
    );
    ctx.connection.onRenameRequest((params, token) =>
      withAnalysis(ctx, 'Rename', params, token, ({ document, analysis }): WorkspaceEdit | ResponseError<void> | null => {
        const result = renameEdits(analysis.index, document.offsetAt(params.position), params.newName, analysis);
        if ('error' in result) return new ResponseError(INVALID_REQUEST, result.error);
        const edits = lspEdits(document, result.edits);
        if (ctx.clientCapabilities.workspace?.workspaceEdit?.documentChanges) {
          return { documentChanges: [{ textDocument: { uri: document.uri, version: document.version }, edits }] };
        }
        return { changes: { [document.uri]: edits } };
      }),
    );
  },
};
