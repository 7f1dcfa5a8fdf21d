/**
 * The language server: creates the connection, learns what the client supports, and
 * installs one module per LSP feature. Features are registered dynamically after
 * `initialized` where the client supports it, statically in `initialize` otherwise.
 */
import {
  BulkRegistration,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  createConnection,
  ErrorCodes,
  ResponseError,
  type InitializeError,
  type InitializeResult,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisCache } from './analysis';
import { guardRequests, type LifecycleState } from './requestGuard';
import type { Feature, ServerContext } from './context';
import { SettingsStore } from './settings';
import { diagnostics } from './diagnostics';
import { completion } from './completion';
import { hover } from './hover';
import { definition } from './definition';
import { references } from './references';
import { rename } from './rename';
import { documentSymbols } from './documentSymbols';
import { workspaceSymbols } from './workspaceSymbols';
import { folding } from './folding';
import { semanticTokens } from './semanticTokens';
import { formatting } from './formatting';
import { codeActions } from './codeActions';
import { selectionRanges } from './selectionRanges';
import { CONFIGURATION_SECTION } from './protocol';

const features: readonly Feature[] = [
  diagnostics,
  completion,
  hover,
  definition,
  references,
  rename,
  documentSymbols,
  workspaceSymbols,
  folding,
  semanticTokens,
  formatting,
  codeActions,
  selectionRanges,
];

export function startServer(): void {
  const lifecycle: LifecycleState = { shutdown: false };
  let initialized = false;
  const connection = guardRequests(createConnection(ProposedFeatures.all), lifecycle);
  const documents = new TextDocuments(TextDocument);
  const ctx: ServerContext = {
    connection,
    documents,
    analyses: new AnalysisCache((document) => documents.get(document.uri) === document),
    settings: new SettingsStore(connection, () => ctx.clientCapabilities.workspace?.configuration === true),
    clientCapabilities: {},
    workspaceFolders: [],
    featureState: new Map(),
  };
  const registrations = features.flatMap((feature) => feature.registrations);

  connection.onShutdown(() => {
    lifecycle.shutdown = true;
  });

  connection.onInitialize((params): InitializeResult | ResponseError<InitializeError> => {
    if (initialized) return new ResponseError(ErrorCodes.InvalidRequest, 'The server is already initialized: initialize is sent once.', { retry: false });
    initialized = true;
    ctx.clientCapabilities = params.capabilities;
    ctx.workspaceFolders =
      params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
    const capabilities: ServerCapabilities = {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    };
    for (const registration of registrations) {
      if (!registration.dynamic(params.capabilities)) Object.assign(capabilities, registration.capability(ctx));
    }
    return { capabilities, serverInfo: { name: 'coi-language-server', version: '0.1.0' } };
  });

  connection.onInitialized(() => {
    const dynamic = BulkRegistration.create();
    for (const registration of registrations) {
      if (registration.dynamic(ctx.clientCapabilities)) registration.register(dynamic);
    }
    if (ctx.clientCapabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      // Workspace symbols read .coi files from disk, and checks read the JSON Schemas that
      // `schema_file` names: hear about changes to both.
      dynamic.add(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.coi' }, { globPattern: '**/*.json' }] });
    }
    if (ctx.clientCapabilities.workspace?.didChangeConfiguration?.dynamicRegistration) {
      dynamic.add(DidChangeConfigurationNotification.type, { section: CONFIGURATION_SECTION });
    }
    connection.client.register(dynamic).catch((error: unknown) => {
      connection.console.error(`Registering features failed: ${String(error)}`);
    });
    if (ctx.clientCapabilities.workspace?.workspaceFolders) {
      connection.workspace.onDidChangeWorkspaceFolders((e) => {
        const removed = new Set(e.removed.map((f) => f.uri));
        ctx.workspaceFolders = [...ctx.workspaceFolders.filter((u) => !removed.has(u)), ...e.added.map((f) => f.uri)];
      });
    }
  });

  connection.onDidChangeConfiguration((change) => {
    ctx.settings.changed(change.settings);
    for (const feature of features) feature.settingsChanged?.(ctx);
  });

  connection.onDidChangeWatchedFiles((e) => {
    for (const feature of features) feature.filesChanged?.(ctx, e.changes);
  });

  documents.onDidClose((e) => {
    ctx.analyses.delete(e.document.uri);
    ctx.settings.forget(e.document.uri);
  });

  for (const feature of features) feature.install(ctx);
  documents.listen(connection);
  connection.listen();
}
