/**
 * A small LSP client for tests and benchmarks: starts the bundled server
 * (`node dist/server.js --stdio`) as a child process and speaks the protocol to it
 * over its stdio with vscode-languageserver-protocol.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  ConfigurationRequest,
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type Registration,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node';
import { DiagnosticRefreshRequest, DocumentDiagnosticRequest, type FullDocumentDiagnosticReport } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { repoPath } from '../helpers/paths';

export const SERVER_BUNDLE = repoPath('dist', 'server.js');

/** Capabilities of a modern client (VS Code-like): pull diagnostics, snippets, dynamic registration. */
export function fullCapabilities(): ClientCapabilities {
  return {
    workspace: {
      configuration: true,
      didChangeConfiguration: { dynamicRegistration: true },
      didChangeWatchedFiles: { dynamicRegistration: true },
      workspaceFolders: true,
      diagnostics: { refreshSupport: true },
      symbol: { dynamicRegistration: false },
      workspaceEdit: { documentChanges: true },
    },
    textDocument: {
      synchronization: { dynamicRegistration: true, didSave: true },
      completion: { dynamicRegistration: true, completionItem: { snippetSupport: true } },
      hover: { dynamicRegistration: true, contentFormat: ['markdown', 'plaintext'] },
      definition: { dynamicRegistration: true, linkSupport: true },
      references: { dynamicRegistration: true },
      documentHighlight: { dynamicRegistration: true },
      documentSymbol: { dynamicRegistration: true, hierarchicalDocumentSymbolSupport: true },
      rename: { dynamicRegistration: true, prepareSupport: true },
      foldingRange: { dynamicRegistration: true, lineFoldingOnly: true },
      selectionRange: { dynamicRegistration: true },
      formatting: { dynamicRegistration: true },
      rangeFormatting: { dynamicRegistration: true },
      codeAction: { dynamicRegistration: true, codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
      semanticTokens: {
        dynamicRegistration: true,
        requests: { full: true, range: true },
        tokenTypes: [],
        tokenModifiers: [],
        formats: ['relative'],
      },
      diagnostic: { dynamicRegistration: true, relatedDocumentSupport: false },
      publishDiagnostics: { relatedInformation: true, versionSupport: true },
    },
  };
}

/** Capabilities of a minimal editor: no pull diagnostics, no dynamic registration, no configuration pull. */
export function minimalCapabilities(): ClientCapabilities {
  return { textDocument: { publishDiagnostics: { versionSupport: true }, completion: { completionItem: { snippetSupport: false } } } };
}

export interface StartOptions {
  readonly capabilities?: ClientCapabilities;
  /** The `coi` section answered to `workspace/configuration` (per scope URI: a function). */
  readonly settings?: Record<string, unknown> | ((scopeUri: string | undefined) => Record<string, unknown> | Promise<Record<string, unknown>>);
  readonly workspaceFolders?: readonly string[];
}

/**
 * Settings for `LspClient.start` whose first answer is held back until `release()`, so a test
 * can act (close the document, change settings) while a request waits for it. `asked`
 * resolves when that first request arrives; later requests get `later()` at once.
 */
export function heldFirstSettings(later: () => Record<string, unknown> = () => ({})): {
  settings: (scopeUri: string | undefined) => Record<string, unknown> | Promise<Record<string, unknown>>;
  asked: Promise<void>;
  release: () => void;
} {
  let markAsked: () => void = () => undefined;
  const asked = new Promise<void>((resolve) => (markAsked = resolve));
  let release: () => void = () => undefined;
  const held = new Promise<Record<string, unknown>>((resolve) => (release = () => resolve({})));
  let requests = 0;
  const settings = (): Record<string, unknown> | Promise<Record<string, unknown>> => {
    requests++;
    if (requests > 1) return later();
    markAsked();
    return held;
  };
  return { settings, asked, release };
}

export class LspClient {
  readonly registrations: Registration[] = [];
  readonly documents = new Map<string, TextDocument>();
  /** `workspace/configuration` requests received. */
  configurationRequests = 0;
  refreshRequests = 0;
  /** The server's stderr and its console messages (for failure reports). */
  readonly log: string[] = [];
  private readonly published = new Map<string, PublishDiagnosticsParams>();
  private readonly publishWaiters: { uri: string; predicate: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  private settings: StartOptions['settings'];

  private constructor(
    readonly connection: ProtocolConnection,
    private readonly child: ChildProcess,
    options: StartOptions,
  ) {
    this.settings = options.settings;
  }

  static async start(options: StartOptions = {}): Promise<LspClient> {
    if (!existsSync(SERVER_BUNDLE)) throw new Error(`${SERVER_BUNDLE} is missing: run \`node scripts/build.mjs\` first.`);
    const child = spawn(process.execPath, [SERVER_BUNDLE, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspClient(connection, child, options);
    child.stderr.on('data', (chunk: Buffer) => client.log.push(chunk.toString()));
    connection.onRequest(ConfigurationRequest.type, (params) => {
      client.configurationRequests++;
      return Promise.all(params.items.map(async (item) => (item.section === 'coi' ? client.settingsFor(item.scopeUri) : null)));
    });
    connection.onRequest(RegistrationRequest.type, (params) => {
      client.registrations.push(...params.registrations);
    });
    connection.onRequest(DiagnosticRefreshRequest.type, () => {
      client.refreshRequests++;
    });
    connection.onNotification('window/logMessage', (params: { message: string }) => {
      client.log.push(params.message);
    });
    connection.onNotification(PublishDiagnosticsNotification.type, (params) => client.onPublish(params));
    connection.listen();
    const capabilities = options.capabilities ?? fullCapabilities();
    const folders = options.workspaceFolders ?? [];
    await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: folders[0] ?? null,
      capabilities,
      workspaceFolders: folders.map((uri, i) => ({ uri, name: `folder${i}` })),
    });
    await connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  /** The initialize result's capabilities are in the first response; use `registrations` for dynamic ones. */
  hasRegistration(method: string): boolean {
    return this.registrations.some((r) => r.method === method);
  }

  private settingsFor(scopeUri: string | undefined): Record<string, unknown> | Promise<Record<string, unknown>> {
    if (typeof this.settings === 'function') return this.settings(scopeUri);
    return this.settings ?? {};
  }

  /** Changes the settings and tells the server (`workspace/didChangeConfiguration`). */
  async changeSettings(settings: StartOptions['settings'], pushed?: unknown): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: pushed ?? null });
  }

  async close(uri: string): Promise<void> {
    this.documents.delete(uri);
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  async open(uri: string, text: string): Promise<TextDocument> {
    const document = TextDocument.create(uri, 'coi', 1, text);
    this.documents.set(uri, document);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'coi', version: 1, text } });
    return document;
  }

  /** Sends an incremental change (ranges in the current text) and returns the new version. */
  async change(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<TextDocument> {
    const current = this.document(uri);
    const next = TextDocument.update(current, changes, current.version + 1);
    this.documents.set(uri, next);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: next.version }, contentChanges: changes });
    return next;
  }

  /** Replaces the span [start, end) of the current text with `newText`. */
  async edit(uri: string, start: number, end: number, newText: string): Promise<TextDocument> {
    const current = this.document(uri);
    return this.change(uri, [{ range: { start: current.positionAt(start), end: current.positionAt(end) }, text: newText }]);
  }

  document(uri: string): TextDocument {
    const document = this.documents.get(uri);
    if (!document) throw new Error(`${uri} is not open`);
    return document;
  }

  /** `textDocument/diagnostic` (pull): the full report's items. */
  async pullDiagnostics(uri: string): Promise<Diagnostic[]> {
    const report = await this.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
    if (report.kind !== 'full') throw new Error(`expected a full report, got ${report.kind}`);
    return (report as FullDocumentDiagnosticReport).items;
  }

  /** The URIs that got pushed diagnostics so far. */
  get publishedUris(): string[] {
    return [...this.published.keys()];
  }

  /** Waits for pushed diagnostics of `uri` that satisfy `predicate` (the latest ones if they already do). */
  waitForPublished(uri: string, predicate: (p: PublishDiagnosticsParams) => boolean = () => true): Promise<PublishDiagnosticsParams> {
    const latest = this.published.get(uri);
    if (latest && predicate(latest)) return Promise.resolve(latest);
    return new Promise((resolve) => this.publishWaiters.push({ uri, predicate, resolve }));
  }

  private onPublish(params: PublishDiagnosticsParams): void {
    this.published.set(params.uri, params);
    for (const waiter of [...this.publishWaiters]) {
      if (waiter.uri === params.uri && waiter.predicate(params)) {
        this.publishWaiters.splice(this.publishWaiters.indexOf(waiter), 1);
        waiter.resolve(params);
      }
    }
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    try {
      await this.connection.sendRequest(ShutdownRequest.type);
      await this.connection.sendNotification(ExitNotification.type);
    } catch {
      this.child.kill();
    }
    await exited;
    this.connection.dispose();
  }
}

export { fixture, fixtureFile } from '../helpers/markers';

let uriCounter = 0;
/** A fresh document URI (each test its own document). */
export function newUri(name = 'doc'): string {
  uriCounter++;
  return `file:///virtual/${name}-${process.pid}-${uriCounter}.coi`;
}

/** Applies LSP text edits to a text (last first), as an editor would. */
export function applyTextEdits(text: string, edits: readonly { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]): string {
  const document = TextDocument.create('file:///apply', 'coi', 0, text);
  return TextDocument.applyEdits(document, edits.map((e) => ({ range: e.range, newText: e.newText })));
}
