import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { CONFIGURATION_SECTION, LANGUAGE_ID } from '../server/protocol';
import { RESTART_BUDGET, RestartBudget } from './restartBudget';
import type { ServerStatusBar } from './statusBar';
import { showError } from './notify';

/** Owns the LanguageClient: start, restart, crash budget, state in the status bar. */
export class CoiLanguageClient implements vscode.Disposable {
  private languageClient: LanguageClient | undefined;
  private readonly budget = new RestartBudget();
  private readonly stateEmitter = new vscode.EventEmitter<State>();
  /** Fires when the client's state changes (starting, running, stopped). */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly statusBar: ServerStatusBar,
  ) {}

  /**
   * Hover parts that go before the server's (a step's run output: what the user just ran
   * matters more than the analysis card). Set by the run features.
   */
  hoverFirst: ((document: vscode.TextDocument, position: vscode.Position) => vscode.Hover | undefined) | undefined;

  /** Whether the server answers requests (when it does not, features fall back to their own providers). */
  get running(): boolean {
    return this.languageClient?.state === State.Running;
  }

  /** The running client, if any (features use it to send requests). */
  get client(): LanguageClient | undefined {
    return this.languageClient;
  }

  async start(): Promise<void> {
    const serverModule = this.context.asAbsolutePath('dist/server.js');
    this.statusBar.show('starting');
    if (!existsSync(serverModule)) {
      this.failed(`the server bundle ${serverModule} is missing (run \`npm run build\`)`);
      return;
    }
    const client = this.create(serverModule);
    this.languageClient = client;
    try {
      await client.start();
      this.statusBar.show('running');
    } catch (error) {
      this.failed(error instanceof Error ? error.message : String(error));
    }
  }

  async restart(): Promise<void> {
    this.budget.reset();
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.languageClient;
    this.languageClient = undefined;
    if (client === undefined) return;
    try {
      if (client.needsStop()) await client.stop(2000);
    } catch (error) {
      this.log.warn(`Stopping the language server: ${error instanceof Error ? error.message : String(error)}`);
    }
    await client.dispose().catch(() => undefined);
    if (this.statusBar.state !== 'crashed' && this.statusBar.state !== 'failed') this.statusBar.show('stopped');
  }

  dispose(): void {
    this.stateEmitter.dispose();
    void this.stop();
  }

  private create(serverModule: string): LanguageClient {
    const serverOptions: ServerOptions = {
      run: { module: serverModule, transport: TransportKind.ipc },
      debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: LANGUAGE_ID },
        { scheme: 'untitled', language: LANGUAGE_ID },
      ],
      // The pulled diagnostics get a collection named by the server's identifier ('coi');
      // the one for pushed diagnostics (clients without pull) must not take the same name.
      diagnosticCollectionName: 'coi-published',
      // No synchronize.fileEvents: the server registers its own **/*.coi watcher (dynamic registration).
      outputChannel: this.log,
      middleware: {
        // One hover, the run output first: VS Code orders the hovers of separate providers by
        // registration, and the server's registers last (and again after each restart).
        provideHover: async (document, position, token, next) => {
          const fromServer = await next(document, position, token);
          const first = this.hoverFirst?.(document, position);
          if (first === undefined) return fromServer;
          if (fromServer === undefined || fromServer === null) return first;
          return new vscode.Hover([...first.contents, ...fromServer.contents], first.range ?? fromServer.range);
        },
      },
      errorHandler: this.errorHandler(),
      initializationFailedHandler: (error) => {
        this.log.error(`The language server failed to initialize: ${String(error)}`);
        return false;
      },
    };
    const client = new LanguageClient(CONFIGURATION_SECTION, 'CoI Language Server', serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      this.stateEmitter.fire(e.newState);
      if (e.newState === State.Running) this.statusBar.show('running');
      else if (e.newState === State.Starting) this.statusBar.show('starting');
      else if (this.statusBar.state === 'running') this.statusBar.show('stopped');
    });
    return client;
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (error, _message, count): ErrorHandlerResult => {
        this.log.error(`Language server connection error: ${error.message}`);
        // A few write/read errors in a row are transient; more mean the pipe is gone.
        return { action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
      },
      closed: (): CloseHandlerResult => {
        if (this.budget.recordCrash()) {
          this.log.warn('The language server stopped unexpectedly; restarting it.');
          this.statusBar.show('starting');
          return { action: CloseAction.Restart, handled: true };
        }
        this.statusBar.show('crashed');
        const message = `The CoI language server crashed ${RESTART_BUDGET.crashes + 1} times in the last ${RESTART_BUDGET.windowMs / 60000} minutes and will not be restarted.`;
        this.log.error(message);
        void this.offerOutput(message);
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  private failed(reason: string): void {
    this.statusBar.show('failed');
    const message = `The CoI language server could not start: ${reason}`;
    this.log.error(message);
    void this.offerOutput(message);
  }

  private async offerOutput(message: string): Promise<void> {
    const choice = await showError(message, 'Show Output', 'Restart');
    if (choice === 'Show Output') this.log.show();
    else if (choice === 'Restart') await this.restart();
  }
}
