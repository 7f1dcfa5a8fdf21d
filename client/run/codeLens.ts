/**
 * CodeLens actions where the user looks: on the chain (Run, Run composed), on
 * each step (Run to here, Re-run from here) and on each test (Run test).
 * Positions come from core's parser in the extension host.
 */
import * as vscode from 'vscode';
import { chainDeclSpan, chainOf, rangeOf } from './documents';
import type { RunState } from './state';

export type CodeLensMode = 'all' | 'minimal' | 'off';

/** `coi.codeLens.mode`: every lens, only Run and Run test, or none. */
export function codeLensMode(scope: vscode.Uri): CodeLensMode {
  const mode = vscode.workspace.getConfiguration('coi', scope).get<string>('codeLens.mode', 'all');
  return mode === 'minimal' || mode === 'off' ? mode : 'all';
}

export class RunCodeLenses implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(state: RunState) {
    state.onDidChange(() => this.changed.fire());
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('coi.codeLens.mode') && this.changed.fire());
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const mode = codeLensMode(document.uri);
    if (mode === 'off') return [];
    const { chain, file } = chainOf(document);
    if (chain.steps.length === 0) return [];
    const uri = document.uri.toString();
    const top = rangeOf(document, chainDeclSpan(file));
    const lenses = [
      new vscode.CodeLens(top, { title: '$(play) Run', command: 'coi.run', arguments: [uri], tooltip: 'Run the chain step by step' }),
      ...(mode === 'minimal' ? [] : [new vscode.CodeLens(top, { title: 'Run composed', command: 'coi.runComposed', arguments: [uri], tooltip: 'Run the whole chain as one instruction ("... and then ..."), split by the Task i output markers' })]),
    ];
    // Minimal: the step commands stay reachable by keybinding, palette and the cursor's step.
    for (const step of mode === 'minimal' ? [] : chain.steps) {
      const header = rangeOf(document, step.headerSpan);
      lenses.push(
        new vscode.CodeLens(header, { title: 'Run to here', command: 'coi.runToStep', arguments: [uri, step.id], tooltip: `Run the chain up to step ${step.id}` }),
        new vscode.CodeLens(header, { title: 'Re-run from here', command: 'coi.rerunFromStep', arguments: [uri, step.id], tooltip: `Generate ${step.id} and the steps after it again; earlier outputs come from the cache or your pinned outputs` }),
      );
    }
    for (const test of chain.tests) {
      lenses.push(new vscode.CodeLens(rangeOf(document, test.span), { title: '$(beaker) Run test', command: 'coi.runTest', arguments: [uri, test.name] }));
    }
    return lenses;
  }
}
