/**
 * The CoI Studio side panel (issue 10): registered from client/run/index.ts, which owns
 * the run controller and the model selection the panel reads.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ModelSelection } from '../run/models';
import type { RunController } from '../run/controller';
import { EvalSources } from './evalSources';
import { registerFinetuneJobCommands } from './jobCommands';
import { ModelsSource } from './modelsSource';
import { PanelProvider, panelViewId } from './provider';
import { RunSources } from './runSources';

export function registerPanel(context: vscode.ExtensionContext, services: Services, runs: RunController, models: ModelSelection): void {
  const provider = new PanelProvider(context, new RunSources(() => runs.runStore()), new ModelsSource(context, models), new EvalSources(), services.log, runs.runStore().directory);
  registerFinetuneJobCommands(context, services.log);
  context.subscriptions.push(
    provider,
    vscode.window.registerWebviewViewProvider(panelViewId, provider),
    vscode.commands.registerCommand('coi.showPanel', (tab?: unknown) => provider.reveal(tab === 'runs' || tab === 'evals' || tab === 'jobs' || tab === 'models' ? tab : undefined)),
  );
}
