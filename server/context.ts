/** What every feature of the server shares, and the shape of a feature module. */
import {
  LSPErrorCodes,
  ResponseError,
  type BulkRegistration,
  type CancellationToken,
  type ClientCapabilities,
  type FileEvent,
  type Connection,
  type RegistrationType,
  type ServerCapabilities,
  type TextDocumentRegistrationOptions,
  type TextDocuments,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis, AnalysisCache } from './analysis';
import type { SettingsStore } from './settings';
import { LANGUAGE_ID } from './protocol';

export interface ServerContext {
  readonly connection: Connection;
  readonly documents: TextDocuments<TextDocument>;
  readonly analyses: AnalysisCache;
  readonly settings: SettingsStore;
  /** Set in `initialize`. */
  clientCapabilities: ClientCapabilities;
  /** Workspace folder URIs (from `initialize` and later changes). */
  workspaceFolders: string[];
  /** Each feature's own state for this connection (timers, caches), made on first use: see `stateOf`. */
  readonly featureState: Map<StateKey<unknown>, unknown>;
}

/** A feature's state slot in the context: `stateOf(ctx, KEY)` makes it on first use. */
export interface StateKey<T> {
  readonly name: string;
  create(ctx: ServerContext): T;
}

export function stateOf<T>(ctx: ServerContext, key: StateKey<T>): T {
  if (!ctx.featureState.has(key)) ctx.featureState.set(key, key.create(ctx));
  return ctx.featureState.get(key) as T;
}

/**
 * How a capability reaches the client: registered dynamically after `initialized`
 * when the client supports that (`dynamic`), announced statically in `initialize`
 * otherwise (`capability`).
 */
export interface CapabilityRegistration {
  dynamic(caps: ClientCapabilities): boolean;
  capability(ctx: ServerContext): ServerCapabilities;
  register(registrations: BulkRegistration): void;
}

export interface Feature {
  /** Installs the request/notification handlers (once, before `initialize` is answered). */
  install(ctx: ServerContext): void;
  /** The capabilities it serves. */
  readonly registrations: readonly CapabilityRegistration[];
  /** Called after `workspace/didChangeConfiguration` (cached settings already dropped). */
  settingsChanged?(ctx: ServerContext): void;
  /** Called with the files the client's watchers saw change (`.coi` files and the schema files chains name). */
  filesChanged?(ctx: ServerContext, changes: readonly FileEvent[]): void;
}

export const COI_SELECTOR = [{ language: LANGUAGE_ID }, { pattern: '**/*.coi' }];

type TextDocumentFeatureName = keyof NonNullable<ClientCapabilities['textDocument']>;

/**
 * A capability for .coi documents: registered dynamically (for the COI selector, with
 * `options`) when the client's `textDocument.<clientFeature>.dynamicRegistration` is
 * set, else `capability` in the `initialize` answer.
 */
export function documentCapability<RO extends TextDocumentRegistrationOptions>(
  clientFeature: TextDocumentFeatureName,
  type: RegistrationType<RO>,
  capability: ServerCapabilities | ((ctx: ServerContext) => ServerCapabilities),
  options: Omit<RO, 'documentSelector'>,
): CapabilityRegistration {
  return {
    dynamic: (caps) => dynamicTextDocument(caps, clientFeature),
    capability: (ctx) => (typeof capability === 'function' ? capability(ctx) : capability),
    register: (registrations) => registrations.add(type, { ...options, documentSelector: COI_SELECTOR } as RO),
  };
}

/** The document and its analysis, or undefined when the document is not open. */
export function analysisFor(ctx: ServerContext, uri: string): { document: TextDocument; analysis: Analysis } | undefined {
  const document = ctx.documents.get(uri);
  if (!document) return undefined;
  return { document, analysis: ctx.analyses.get(document) };
}

/**
 * The usual request about one document: `guarded`, with the document and its
 * analysis, answered with null when the document is not open (any more).
 */
export function withAnalysis<T>(
  ctx: ServerContext,
  name: string,
  params: { readonly textDocument: { readonly uri: string } },
  token: CancellationToken,
  body: (found: { document: TextDocument; analysis: Analysis }) => T,
): T | null | ResponseError<void> {
  return guarded(ctx, name, token, () => {
    const found = analysisFor(ctx, params.textDocument.uri);
    return found ? body(found) : null;
  });
}

export function cancelledError(): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, 'The request was cancelled.');
}

/** Throws the RequestCancelled error when the client cancelled (checked between phases). */
export function throwIfCancelled(token: CancellationToken): void {
  if (token.isCancellationRequested) throw cancelledError();
}

/** Runs a handler body, turning a cancellation into its LSP error and logging failures. */
export function guarded<T>(ctx: ServerContext, name: string, token: CancellationToken, body: () => T): T | ResponseError<void> {
  if (token.isCancellationRequested) return cancelledError();
  try {
    return body();
  } catch (error) {
    return failure(ctx, name, error);
  }
}

/** `guarded` for a handler that awaits (settings, files): failures after the await too. */
export async function guardedAsync<T>(ctx: ServerContext, name: string, token: CancellationToken, body: () => Promise<T>): Promise<T | ResponseError<void>> {
  if (token.isCancellationRequested) return cancelledError();
  try {
    return await body();
  } catch (error) {
    return failure(ctx, name, error);
  }
}

function failure(ctx: ServerContext, name: string, error: unknown): ResponseError<void> {
  if (error instanceof ResponseError) return error as ResponseError<void>;
  ctx.connection.console.error(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new ResponseError(-32603 /* InternalError */, `${name} failed: ${error instanceof Error ? error.message : String(error)}`);
}

/** `textDocument.<feature>.dynamicRegistration` of the client. */
export function dynamicTextDocument(caps: ClientCapabilities, feature: keyof NonNullable<ClientCapabilities['textDocument']>): boolean {
  const entry = caps.textDocument?.[feature] as { dynamicRegistration?: boolean } | undefined;
  return entry?.dynamicRegistration === true;
}
