/**
 * The questions of `CoI: Run Evaluation…` and `CoI: Resume Evaluation…`: quick
 * picks and file dialogs. Each question can be answered in advance by the
 * command's second argument (`EvalAnswers`, for automation and the
 * extension-host suite); an answer is checked against what the pick offers.
 */
import { dirname, extname } from 'node:path';
import * as vscode from 'vscode';
import type { ModelProfile } from '../../core/chain';
import { datasetFormatOf, DEFAULT_SAMPLE_SEED, type EvalSource, type ItemSubset } from '../../core/eval/index';
import { OPENAI_DEFAULT_BASE_URL, describeProfile, profileFromModelSpec } from '../../core/runner';
import type { ModelChoice } from '../run/models';
import { specKeyHeader, type RunSettings } from '../run/settings';
import { modelConfigOf, type ModeChoice, type ModelRequest } from './plan';
import { showInfo } from '../notify';

export interface EvalAnswers {
  /** What to evaluate: this chain's tests, a dataset file bound to it, or a records file. */
  readonly source?: EvalSource['kind'];
  /** The dataset or records file (absolute path). */
  readonly file?: string;
  /** Model keys as the pick offers them (`profile:NAME`, or a spec such as `openai:MODEL_ID` or a GGUF path). */
  readonly models?: readonly string[];
  /** Base URL of `openai:` specs that are not offered (default: coi.openai.baseUrl). */
  readonly baseUrl?: string;
  readonly mode?: ModeChoice;
  /** The prompt format (default: the `coi.run.template` setting). */
  readonly template?: 'chat' | 'alpaca';
  /** The store folder (default: `.coi-evals/TIMESTAMP-NAME` beside the chain or records file, or in a workspace folder: core/eval/storeParent.ts). */
  readonly out?: string;
  /** Every answer's bound in tokens (as `coi eval --max-tokens`); kept in the store. */
  readonly maxTokens?: number;
  /** Which items (as `coi eval --limit/--sample`), or 'all'; asked only of a source with more than TRY_SIZE items. */
  readonly subset?: ItemSubset | 'all';
}

/** A source with more items than this is asked whether to try that many first (a local model takes seconds per item). */
export const TRY_SIZE = 50;

/** A wrong answer given in advance: reported like bad input. */
export class EvalAnswerError extends Error {}

type SourceItem = vscode.QuickPickItem & { kind_: EvalSource['kind'] };
type ModelItem = vscode.QuickPickItem & { key: string; request?: ModelRequest };

function workspaceRoot(path: string): string {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path))?.uri.fsPath ?? dirname(path);
}

/** The same model picked twice (ticked, and typed again under "Another model") is evaluated once. */
function withoutRepeats(requests: readonly ModelRequest[]): ModelRequest[] {
  const seen = new Set<string>();
  return requests.filter((r) => {
    const key = modelConfigOf(r).key;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export class EvalPrompts {
  /**
   * `chain`: the chain's file, or for an untitled chain what saves it (Save As) and resolves to
   * its new path, asked only once its tests or a dataset are picked; undefined without a chain.
   */
  async source(chain: string | (() => Promise<string | undefined>) | undefined, testCount: number, answers: EvalAnswers): Promise<EvalSource | undefined> {
    const items: SourceItem[] = [];
    const saved = typeof chain === 'function' ? ' · saved first' : '';
    if (chain !== undefined && testCount > 0) items.push({ kind_: 'tests', label: "$(beaker) This chain's tests", description: `${testCount} test block${testCount === 1 ? '' : 's'}${saved}` });
    if (chain !== undefined) items.push({ kind_: 'dataset', label: '$(table) A dataset file…', description: `JSONL, JSON array or CSV rows: a column per input, expected.STEP columns${saved}` });
    items.push({ kind_: 'records', label: "$(file-text) A records file…", description: "The paper's records (JSON array or JSONL): each record its own chain" });
    const kind = answers.source !== undefined ? items.find((i) => i.kind_ === answers.source)?.kind_ : (await vscode.window.showQuickPick(items, { title: 'CoI: Run Evaluation (1/3): what to evaluate' }))?.kind_;
    if (answers.source !== undefined && kind === undefined) throw new EvalAnswerError(`Cannot evaluate ${answers.source} here: ${chain === undefined ? 'open a .coi file first' : 'this chain has no test blocks'}.`);
    if (kind === undefined) return undefined;
    if (kind === 'records') {
      const file = answers.file ?? (await this.file('records'));
      return file === undefined ? undefined : { kind, files: [file], format: extname(file).toLowerCase() === '.jsonl' ? 'jsonl' : 'json', root: workspaceRoot(file) };
    }
    // The Save As dialog dismissed: nothing is evaluated.
    const chainFile = typeof chain === 'function' ? await chain() : chain;
    if (chainFile === undefined) return undefined;
    if (kind === 'tests') return { kind, files: [chainFile], root: workspaceRoot(chainFile) };
    const file = answers.file ?? (await this.file('dataset'));
    if (file === undefined) return undefined;
    return { kind, files: [file], chainFile, format: datasetFormatOf(file), root: workspaceRoot(chainFile) };
  }

  private async file(kind: 'dataset' | 'records'): Promise<string | undefined> {
    const filters: Record<string, string[]> = kind === 'dataset' ? { 'Datasets (JSONL, JSON, CSV)': ['jsonl', 'json', 'csv'] } : { 'Records (JSON, JSONL)': ['json', 'jsonl'] };
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters, title: kind === 'dataset' ? 'The dataset to run the chain on' : "The paper's records file", openLabel: 'Evaluate' });
    return files?.[0]?.fsPath;
  }

  /**
   * The models: the chains' profiles, the model picked with CoI: Select Model,
   * the coi.defaultModel setting, or one entered (a GGUF path, an hf: URI, any
   * OpenAI-compatible model with its base URL).
   */
  async models(profiles: readonly ModelProfile[], picked: ModelChoice | undefined, settings: RunSettings, cwd: string, answers: EvalAnswers): Promise<ModelRequest[] | undefined> {
    const fromSpec = (spec: string, baseUrl: string | undefined): ModelRequest => {
      try {
        const url = /^openai:/i.test(spec.trim()) ? (baseUrl ?? settings.openaiBaseUrl) : undefined;
        return { kind: 'spec', spec, ...(url !== undefined ? { baseUrl: url } : {}), profile: profileFromModelSpec(spec, { cwd, ...(url !== undefined ? { baseUrl: url } : {}), ...specKeyHeader(settings) }) };
      } catch (error) {
        throw new EvalAnswerError((error as Error).message);
      }
    };
    const items: ModelItem[] = profiles.map((p) => ({ key: `profile:${p.name}`, label: `$(file-code) ${p.name}`, description: describeProfile(p), detail: 'Model profile of the file', request: { kind: 'profile', name: p.name, profile: p } }));
    const specs = [...new Set([picked?.kind === 'spec' ? picked.spec : undefined, settings.defaultModel].filter((s): s is string => s !== undefined))];
    for (const spec of specs) items.push({ key: spec, label: `$(hubot) ${spec}`, detail: spec === settings.defaultModel ? 'coi.defaultModel setting' : 'Selected model of the file', request: fromSpec(spec, undefined) });
    if (answers.models !== undefined) return answers.models.map((key) => items.find((i) => i.key === key)?.request ?? fromSpec(key, answers.baseUrl));
    const preselected = picked?.kind === 'profile' ? `profile:${picked.name}` : picked?.spec ?? items[0]?.key;
    const enter: ModelItem = { key: '', label: '$(edit) Another model: GGUF path, hf: URI or openai:MODEL_ID…', alwaysShow: true };
    const chosen = await vscode.window.showQuickPick(
      [...items.map((i) => ({ ...i, picked: i.key === preselected })), enter],
      { title: 'CoI: Run Evaluation (2/3): models (every item runs on every model)', canPickMany: true, ignoreFocusOut: true },
    );
    if (chosen === undefined) return undefined;
    const requests = chosen.flatMap((c) => (c.request !== undefined ? [c.request] : []));
    if (chosen.includes(enter) || chosen.some((c) => c.key === '')) {
      const spec = await vscode.window.showInputBox({
        title: 'Another model',
        prompt: 'A GGUF file path, an hf: URI, or openai:MODEL_ID (any OpenAI-compatible server)',
        validateInput: (text) => (text.trim() === '' ? 'A model: a GGUF file path, an hf: URI or openai:MODEL_ID (Escape cancels the evaluation).' : undefined),
        ignoreFocusOut: true,
      });
      // Escape cancels the whole command, as it does at every other question.
      if (spec === undefined || spec.trim() === '') return undefined;
      let baseUrl: string | undefined;
      if (/^openai:/i.test(spec.trim())) {
        baseUrl = await vscode.window.showInputBox({ title: `Base URL of ${spec.trim()}`, value: settings.openaiBaseUrl ?? OPENAI_DEFAULT_BASE_URL, prompt: 'The API key comes from CoI: Set API Key or the environment.', ignoreFocusOut: true });
        if (baseUrl === undefined) return undefined;
      }
      requests.push(fromSpec(spec.trim(), baseUrl?.trim()));
    }
    return withoutRepeats(requests);
  }

  async mode(answers: EvalAnswers): Promise<ModeChoice | undefined> {
    if (answers.mode !== undefined) return answers.mode;
    const items: (vscode.QuickPickItem & { mode: ModeChoice })[] = [
      { mode: 'stepwise', label: 'Stepwise', description: 'one model call per step' },
      { mode: 'composed', label: 'Composed', description: 'the whole chain as one instruction, split by the output markers' },
      { mode: 'both', label: 'Both', description: 'stepwise and composed, compared item by item' },
    ];
    return (await vscode.window.showQuickPick(items, { title: 'CoI: Run Evaluation (3/3): mode' }))?.mode;
  }

  /**
   * Which of `total` items to evaluate: all of them, or a try first (the first TRY_SIZE, or a
   * number of them drawn at random); `{}` for all, undefined when dismissed.
   */
  async subset(total: number, answers: EvalAnswers): Promise<{ readonly subset?: ItemSubset } | undefined> {
    if (answers.subset !== undefined) return answers.subset === 'all' ? {} : { subset: answers.subset };
    if (total <= TRY_SIZE) return {};
    type SubsetItem = vscode.QuickPickItem & { subset?: ItemSubset; ask?: true };
    const items: SubsetItem[] = [
      { label: `All ${total} items` },
      { label: `The first ${TRY_SIZE}`, description: 'a try before all of them', subset: { kind: 'first', count: TRY_SIZE } },
      { label: `${TRY_SIZE} drawn at random`, description: `the same ones each time (seed ${DEFAULT_SAMPLE_SEED})`, subset: { kind: 'sample', count: TRY_SIZE, seed: DEFAULT_SAMPLE_SEED } },
      { label: 'Another number, drawn at random…', ask: true },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: `CoI: Run Evaluation: which of the ${total} items` });
    if (picked === undefined) return undefined;
    if (picked.ask !== true) return picked.subset !== undefined ? { subset: picked.subset } : {};
    const count = await vscode.window.showInputBox({
      title: `How many of the ${total} items, drawn at random`,
      prompt: `The same ones each time (seed ${DEFAULT_SAMPLE_SEED}); a resume keeps to them.`,
      validateInput: (text) => (/^\s*\d+\s*$/.test(text) && Number(text) >= 1 ? undefined : 'A whole number of items, 1 or more.'),
      ignoreFocusOut: true,
    });
    if (count === undefined) return undefined;
    return { subset: { kind: 'sample', count: Number(count), seed: DEFAULT_SAMPLE_SEED } };
  }

  async store(stores: readonly { dir: string; name: string; done: number; expected: number; createdAt: string }[]): Promise<string | undefined> {
    if (stores.length === 0) {
      void showInfo('No interrupted evaluation in this workspace (under .coi-evals/ or a fine-tuning job\'s eval/).');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      stores.map((s) => ({ label: s.name, description: `${s.done}/${s.expected} done`, detail: `${vscode.workspace.asRelativePath(s.dir)} · started ${new Date(s.createdAt).toLocaleString()}`, dir: s.dir })),
      { title: 'CoI: Resume Evaluation', matchOnDetail: true },
    );
    return picked?.dir;
  }
}
