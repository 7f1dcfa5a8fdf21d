/**
 * The Models tab's data: the open chain's profiles and selected model, the GGUF files
 * in the models folders, and what the local worker detects (on request: it starts the
 * worker process).
 */
import * as vscode from 'vscode';
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sharedWorkerHost } from '../../core/backends/index';
import { ggufFilesIn } from './ggufFiles';
import type { ComputeView, ModelsView } from '../../webview/protocol';
import { chainOf, isCoiDocument } from '../run/documents';
import { requireTrustedWorkspace, type ModelSelection } from '../run/models';
import { runSettings } from '../run/settings';

/** node-llama-cpp's own download folder (`hf:` URIs without `coi.local.modelsDir`). */
export const nodeLlamaCppModelsDir = join(homedir(), '.node-llama-cpp', 'models');

export class ModelsSource {
  private lastChain: vscode.TextDocument | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly selection: ModelSelection,
  ) {}

  /** The chain the tab is about: the active .coi editor, else the last one that was active. */
  chainDocument(): vscode.TextDocument | undefined {
    const active = vscode.window.activeTextEditor?.document;
    if (active !== undefined && isCoiDocument(active)) this.lastChain = active;
    if (this.lastChain?.isClosed === true) this.lastChain = undefined;
    return this.lastChain;
  }

  async view(): Promise<ModelsView> {
    const document = this.chainDocument();
    const chain = document !== undefined ? chainOf(document).chain : undefined;
    const settings = runSettings(document?.uri);
    const searched: { folder: string; why: string; exists: boolean }[] = [];
    // In Restricted Mode the workspace's value of the (restricted) modelsDir setting is not used.
    if (settings.modelsDir !== undefined && vscode.workspace.isTrusted) searched.push({ folder: settings.modelsDir, why: 'coi.local.modelsDir', exists: existsSync(settings.modelsDir) });
    searched.push({ folder: nodeLlamaCppModelsDir, why: "node-llama-cpp's model cache", exists: existsSync(nodeLlamaCppModelsDir) });
    const ggufFiles = searched.flatMap((s) => ggufFilesIn(s.folder));
    const inWorkspace = await vscode.workspace.findFiles('**/*.gguf', '**/node_modules/**', 200);
    for (const uri of inWorkspace) {
      if (!ggufFiles.some((f) => f.path === uri.fsPath)) ggufFiles.push({ path: uri.fsPath, sizeBytes: statSync(uri.fsPath).size, folder: 'workspace' });
    }
    if (inWorkspace.length > 0 || vscode.workspace.workspaceFolders !== undefined) searched.push({ folder: 'workspace', why: 'GGUF files in the open folders', exists: true });
    return {
      ...(document !== undefined ? { chainFile: document.uri.scheme === 'file' ? document.uri.fsPath : document.uri.toString() } : {}),
      profiles: (chain?.profiles ?? []).map((p) => ({ name: p.name, provider: p.provider, model: p.provider === 'local' ? p.path : `${p.model} at ${p.baseUrl}`, isDefault: p.name === chain?.defaultProfile })),
      selected: document !== undefined && chain !== undefined ? this.selection.label(this.selection.choiceFor(document, chain)) : 'no model',
      ggufFiles,
      searched,
    };
  }

  /** Asks the local worker what it can use (starts it; honours coi.local.gpu and threads). */
  async compute(): Promise<ComputeView> {
    requireTrustedWorkspace();
    const settings = runSettings(this.chainDocument()?.uri);
    const info = await sharedWorkerHost(this.context.asAbsolutePath('dist/worker.js')).describe({
      ...(settings.gpu !== undefined ? { gpu: settings.gpu } : {}),
      ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    });
    return {
      gpu: info.gpu === false ? 'cpu' : info.gpu,
      gpuDevices: [...info.gpuDeviceNames],
      vramBytes: info.gpu === false ? 0 : info.vram.total,
      cpuMathCores: info.cpuMathCores,
      maxThreads: info.maxThreads,
      nodeLlamaCppVersion: info.nodeLlamaCppVersion,
    };
  }
}
