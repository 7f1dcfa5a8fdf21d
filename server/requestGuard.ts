/**
 * What every request handler of the server gets before it runs, in one place rather than in
 * each feature: after `shutdown`, requests get the spec's InvalidRequest error; parameters
 * that are not what LSP defines (a position that is not an object of two numbers, a missing
 * `textDocument`) get InvalidParams (-32602) with the reason — not an internal error with a
 * stack trace from deep inside a feature.
 */
import { ErrorCodes, ResponseError, type Connection } from 'vscode-languageserver/node';

/** The connection's methods that install request handlers (not notifications). */
const REQUEST_REGISTRARS = new Set([
  'onHover',
  'onCompletion',
  'onDefinition',
  'onReferences',
  'onDocumentHighlight',
  'onPrepareRename',
  'onRenameRequest',
  'onDocumentSymbol',
  'onFoldingRanges',
  'onDocumentFormatting',
  'onDocumentRangeFormatting',
  'onCodeAction',
  'onSelectionRanges',
]);

export interface LifecycleState {
  shutdown: boolean;
}

function isPosition(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { line, character } = value as { line?: unknown; character?: unknown };
  return Number.isInteger(line) && Number.isInteger(character) && (line as number) >= 0 && (character as number) >= 0;
}

/** Why `params` are not valid parameters of a document request, or undefined when they are. */
export function documentParamsProblem(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return 'The parameters must be an object.';
  const { textDocument, position, range, positions } = params as Record<string, unknown>;
  if (typeof textDocument !== 'object' || textDocument === null || typeof (textDocument as { uri?: unknown }).uri !== 'string') return 'textDocument.uri must be a string.';
  if ('position' in params && !isPosition(position)) return 'position must be { line, character } with two non-negative integers.';
  if ('range' in params && (typeof range !== 'object' || range === null || !isPosition((range as { start?: unknown }).start) || !isPosition((range as { end?: unknown }).end))) return 'range must be { start, end } positions.';
  if ('positions' in params && (!Array.isArray(positions) || !positions.every(isPosition))) return 'positions must be an array of positions.';
  return undefined;
}

type Handler = (params: unknown, ...rest: unknown[]) => unknown;

function guard(handler: Handler, state: LifecycleState, check: (params: unknown) => string | undefined): Handler {
  return (params, ...rest) => {
    if (state.shutdown) return new ResponseError(ErrorCodes.InvalidRequest, 'The server is shutting down: no request is answered after shutdown.');
    const problem = check(params);
    if (problem !== undefined) return new ResponseError(ErrorCodes.InvalidParams, `Invalid parameters: ${problem}`);
    return handler(params, ...rest);
  };
}

/** Wraps `registrar` (a function taking a handler) so the handler it installs is guarded. */
function guardedRegistrar(registrar: (handler: Handler) => unknown, owner: object, state: LifecycleState, check: (params: unknown) => string | undefined): (handler: Handler) => unknown {
  return (handler) => registrar.call(owner, guard(handler, state, check));
}

/** The connection the features see: the same, with every request handler guarded. */
export function guardRequests(connection: Connection, state: LifecycleState): Connection {
  const workspaceQuery = (params: unknown): string | undefined => (typeof params === 'object' && params !== null && typeof (params as { query?: unknown }).query === 'string' ? undefined : 'query must be a string.');
  return new Proxy(connection, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value === 'function' && typeof prop === 'string') {
        if (REQUEST_REGISTRARS.has(prop)) return guardedRegistrar(value as (handler: Handler) => unknown, target, state, documentParamsProblem);
        if (prop === 'onWorkspaceSymbol') return guardedRegistrar(value as (handler: Handler) => unknown, target, state, workspaceQuery);
      }
      // Semantic tokens and pulled diagnostics register through connection.languages.*.on / onRange.
      if (prop === 'languages' && typeof value === 'object' && value !== null) {
        return new Proxy(value, {
          get(languages, feature, innerReceiver) {
            const inner: unknown = Reflect.get(languages, feature, innerReceiver);
            if ((feature !== 'semanticTokens' && feature !== 'diagnostics') || typeof inner !== 'object' || inner === null) return inner;
            return new Proxy(inner, {
              get(object, method, methodReceiver) {
                const registrar: unknown = Reflect.get(object, method, methodReceiver);
                return (method === 'on' || method === 'onRange') && typeof registrar === 'function' ? guardedRegistrar(registrar as (handler: Handler) => unknown, object, state, documentParamsProblem) : registrar;
              },
            });
          },
        });
      }
      return value;
    },
  });
}
