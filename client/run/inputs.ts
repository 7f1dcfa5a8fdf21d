/** Asks for the values of a chain's inputs (last values, a test's values, or new ones). */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import type { Chain, ChainInput } from '../../core/chain';
import { inputsNeeded } from '../../core/runner';
import { escapeInput, previewInputs, unescapeInput } from './inputText';
import { showError } from '../notify';

const stateKey = (uri: vscode.Uri): string => `coi.inputs:${uri.toString()}`;

function complete(needed: readonly ChainInput[], values: Readonly<Record<string, string>> | undefined): values is Record<string, string> {
  return values !== undefined && needed.every((i) => typeof values[i.name] === 'string');
}

/** `@path` reads a file (relative to the chain's folder); otherwise `\n` escapes are read. */
function resolveValue(value: string, document: vscode.TextDocument): string {
  if (!value.startsWith('@') || document.uri.scheme !== 'file') return unescapeInput(value);
  const path = value.slice(1);
  const full = isAbsolute(path) ? path : join(vscode.Uri.joinPath(document.uri, '..').fsPath, path);
  return readFileSync(full, 'utf8');
}

/** `run`: what decides the inputs asked for (core's inputsNeeded): a stop step ("Run to here") and the pinned steps. */
export async function askInputs(context: vscode.ExtensionContext, document: vscode.TextDocument, chain: Chain, preferTest?: string, run: Parameters<typeof inputsNeeded>[1] = {}): Promise<Record<string, string> | undefined> {
  // Only the inputs read by the steps the run generates: up to "Run to here", not pinned (as `coi run --to --pin`).
  const needed = inputsNeeded(chain, run);
  if (needed.length === 0) return {};
  const last = context.workspaceState.get<Record<string, string>>(stateKey(document.uri));
  const fromTests = chain.tests.filter((t) => complete(needed, t.inputs));
  const preferred = fromTests.find((t) => t.name === preferTest);
  if (preferred !== undefined) return { ...preferred.inputs };
  type Item = vscode.QuickPickItem & { values?: Record<string, string> };
  const items: Item[] = [];
  if (complete(needed, last)) items.push({ label: '$(history) Last inputs', description: previewInputs(last), values: last });
  for (const test of fromTests) items.push({ label: `$(beaker) Inputs of test "${test.name}"`, description: previewInputs(test.inputs), values: { ...test.inputs } });
  items.push({ label: '$(edit) Enter values…' });
  let chosen: Record<string, string> | undefined;
  if (items.length > 1) {
    const picked = await vscode.window.showQuickPick(items, { title: `Inputs for ${chain.name || 'the chain'}`, placeHolder: 'Values of the chain inputs for this run' });
    if (picked === undefined) return undefined;
    chosen = picked.values;
  }
  if (chosen === undefined) {
    chosen = {};
    for (const [i, input] of needed.entries()) {
      const value = await vscode.window.showInputBox({
        title: `Input "${input.name}" (${i + 1}/${needed.length})`,
        prompt: 'The value (\\n for a new line, \\\\ for a backslash), or @path to read a file (relative to the .coi file)',
        value: escapeInput(last?.[input.name] ?? fromTests[0]?.inputs[input.name] ?? ''),
        ignoreFocusOut: true,
      });
      if (value === undefined) return undefined;
      try {
        chosen[input.name] = resolveValue(value, document);
      } catch (error) {
        void showError(`Cannot read ${value.slice(1)}: ${(error as Error).message}`);
        return undefined;
      }
    }
  }
  // The values not asked for this time (a run to an earlier step) stay the last ones.
  await context.workspaceState.update(stateKey(document.uri), { ...last, ...chosen });
  return chosen;
}
