/**
 * Diagnostics: the pull model (`textDocument/diagnostic`, refreshed with
 * `workspace/diagnostic/refresh` when settings change) for clients that support it,
 * pushed `textDocument/publishDiagnostics` (debounced after edits) for the others.
 * The diagnostics are core's full check: syntax, structure and composability, capped
 * by core at 1,000 per document with a COI000 note for the rest.
 */
import {
  LSPErrorCodes,
  ResponseError,
  DocumentDiagnosticReportKind,
  DocumentDiagnosticRequest,
  type CancellationToken,
  type Diagnostic as LspDiagnostic,
  type DocumentDiagnosticReport,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from '../core/syntax';
import { cancelledError, documentCapability, stateOf, type Feature, type ServerContext, type StateKey } from './context';
import { toLspDiagnostic } from './convert';
import { LANGUAGE_ID } from './protocol';

const diagnosticOptions = { identifier: LANGUAGE_ID, interFileDependencies: false, workspaceDiagnostics: false };

function pullSupported(ctx: ServerContext): boolean {
  return ctx.clientCapabilities.textDocument?.diagnostic !== undefined;
}

/**
 * Core's diagnostics of a document's current version under its settings (none when they are
 * turned off), with that version: the document may change while the settings are read.
 * Undefined when cancelled.
 */
export async function currentDiagnostics(ctx: ServerContext, document: TextDocument, token?: CancellationToken): Promise<{ document: TextDocument; diagnostics: readonly Diagnostic[] } | undefined> {
  const settings = await ctx.settings.get(document.uri);
  if (token?.isCancellationRequested) return undefined;
  const current = ctx.documents.get(document.uri) ?? document;
  return { document: current, diagnostics: settings.diagnostics.enable ? ctx.analyses.get(current).check(settings).diagnostics : [] };
}

/** The LSP diagnostics of a document's current version under its settings. */
export async function diagnosticsOf(ctx: ServerContext, document: TextDocument, token?: CancellationToken): Promise<LspDiagnostic[] | undefined> {
  const found = await currentDiagnostics(ctx, document, token);
  return found?.diagnostics.map((d) => toLspDiagnostic(found.document, d));
}

export const diagnostics: Feature = {
  // Announced (or registered) only to clients that pull; the others get pushes.
  registrations: [documentCapability('diagnostic', DocumentDiagnosticRequest.type, (ctx) => (pullSupported(ctx) ? { diagnosticProvider: diagnosticOptions } : {}), diagnosticOptions)],

  install(ctx) {
    ctx.connection.languages.diagnostics.on(async (params, token): Promise<DocumentDiagnosticReport> => {
      if (token.isCancellationRequested) throw cancelledError();
      const document = ctx.documents.get(params.textDocument.uri);
      if (!document) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
      // The generation the settings belong to is taken before they are read: a change that
      // comes in meanwhile must give a result id the refreshed pull does not match.
      const generation = ctx.settings.generation;
      const settings = await ctx.settings.get(document.uri);
      if (token.isCancellationRequested) throw cancelledError();
      const current = ctx.documents.get(document.uri) ?? document;
      const analysis = ctx.analyses.get(current);
      // Names the analysed text too (the version number alone a client may repeat or restart).
      const resultId = `${current.version}:${analysis.serial}:${generation}:${ctx.analyses.filesChangedCount}`;
      if (params.previousResultId === resultId) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId };
      if (!settings.diagnostics.enable) return { kind: DocumentDiagnosticReportKind.Full, resultId, items: [] };
      void analysis.file; // parse first, then let queued messages in: a cancel or a newer edit skips the check
      await new Promise((resolve) => setImmediate(resolve));
      if (token.isCancellationRequested) throw cancelledError();
      // `current` is updated in place by edits: compare with the version that was analysed.
      if (ctx.documents.get(current.uri) !== current || current.version !== analysis.version) {
        // The result would describe an outdated text: the client asks again.
        throw new ResponseError(LSPErrorCodes.ServerCancelled, 'The document changed.', { retriggerRequest: true });
      }
      const items = analysis.check(settings).diagnostics.map((d) => toLspDiagnostic(current, d));
      return { kind: DocumentDiagnosticReportKind.Full, resultId, items };
    });

    // Installed before `initialize` says whether the client pulls: decided per event.
    // A client that pulls must not also get pushes (VS Code keeps both, so every problem
    // would show twice).
    ctx.documents.onDidChangeContent((e) => {
      if (!pullSupported(ctx)) stateOf(ctx, PUSHER).schedule(e.document);
    });
    ctx.documents.onDidClose((e) => {
      if (!pullSupported(ctx)) stateOf(ctx, PUSHER).clear(e.document.uri);
    });
  },

  filesChanged(ctx, changes) {
    // A .coi file on disk is not what an open document's check reads; any other file may be
    // a `schema_file` (COI218, COI217): re-check the open documents and tell the client.
    if (changes.every((change) => change.uri.endsWith('.coi'))) return;
    ctx.analyses.filesChanged();
    diagnoseAllAgain(ctx);
  },

  settingsChanged: diagnoseAllAgain,
};

/** Every open document's diagnostics may have changed: pull clients are asked to pull again, push clients get them pushed. */
function diagnoseAllAgain(ctx: ServerContext): void {
  if (pullSupported(ctx)) {
    if (ctx.clientCapabilities.workspace?.diagnostics?.refreshSupport) void ctx.connection.languages.diagnostics.refresh();
  } else {
    stateOf(ctx, PUSHER).pushAll();
  }
}

const PUSHER: StateKey<DiagnosticsPusher> = { name: 'diagnostics pusher', create: (ctx) => new DiagnosticsPusher(ctx) };

/**
 * How long the push model waits after an edit. The debounce exists so that slow checks
 * do not run on every keystroke; a document that checks in a few milliseconds need not
 * wait the full `debounceMs` (Neovim measured 253 ms from edit to diagnostics with the
 * fixed 200 ms). So: three times the document's last check, at least 10 ms, at most
 * `debounceMs`; 30 ms before the first check.
 */
export function pushDelayMs(debounceMs: number, lastCheckMs: number | undefined): number {
  const adaptive = lastCheckMs === undefined ? 30 : Math.max(10, Math.ceil(3 * lastCheckMs));
  return Math.max(0, Math.min(debounceMs, adaptive));
}

/** Push model: check a document once edits pause, then publish for its version. */
class DiagnosticsPusher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** How long the last check of each document took (ms). */
  private readonly checkMs = new Map<string, number>();

  constructor(private readonly ctx: ServerContext) {}

  schedule(document: TextDocument): void {
    const uri = document.uri;
    clearTimeout(this.timers.get(uri));
    void this.ctx.settings.get(uri).then((settings) => {
      clearTimeout(this.timers.get(uri));
      this.timers.set(
        uri,
        setTimeout(() => {
          this.timers.delete(uri);
          void this.push(uri);
        }, pushDelayMs(settings.diagnostics.debounceMs, this.checkMs.get(uri))),
      );
    });
  }

  pushAll(): void {
    for (const document of this.ctx.documents.all()) this.schedule(document);
  }

  clear(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.checkMs.delete(uri);
    void this.ctx.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  private async push(uri: string): Promise<void> {
    const document = this.ctx.documents.get(uri);
    if (!document) return;
    try {
      const started = performance.now();
      const items = await diagnosticsOf(this.ctx, document);
      this.checkMs.set(uri, performance.now() - started);
      const current = this.ctx.documents.get(uri);
      if (!items || !current) return;
      await this.ctx.connection.sendDiagnostics({ uri, version: current.version, diagnostics: items });
    } catch (error) {
      this.ctx.connection.console.error(`Checking ${uri} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
}
