import * as vscode from 'vscode';

export type ServerState = 'starting' | 'running' | 'stopped' | 'crashed' | 'failed';

const presentation: Record<ServerState, { text: string; tooltip: string; command: string; warning: boolean }> = {
  starting: { text: '$(loading~spin) CoI', tooltip: 'CoI language server is starting…', command: 'coi.showOutput', warning: false },
  running: { text: '$(check) CoI', tooltip: 'CoI language server is running. Click to show its output.', command: 'coi.showOutput', warning: false },
  stopped: { text: '$(debug-stop) CoI', tooltip: 'CoI language server is stopped. Click to restart it.', command: 'coi.restartServer', warning: true },
  crashed: { text: '$(error) CoI', tooltip: 'CoI language server crashed too often and was not restarted. Click to restart it.', command: 'coi.restartServer', warning: true },
  failed: { text: '$(error) CoI', tooltip: 'CoI language server could not start. Click to restart it.', command: 'coi.restartServer', warning: true },
};

/** A status bar item showing the language server's state; clicking it shows the output or restarts. */
export class ServerStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('coi.serverStatus', vscode.StatusBarAlignment.Right, 100);
  private current: ServerState = 'stopped';

  constructor() {
    this.item.name = 'CoI Language Server';
    this.show('starting');
    this.item.show();
  }

  get state(): ServerState {
    return this.current;
  }

  show(state: ServerState): void {
    this.current = state;
    const p = presentation[state];
    this.item.text = p.text;
    this.item.tooltip = p.tooltip;
    this.item.command = p.command;
    this.item.backgroundColor = p.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
