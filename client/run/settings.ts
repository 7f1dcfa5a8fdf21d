/** The run settings of the extension (package.json `contributes.configuration`), read per resource. */
import * as vscode from 'vscode';
import type { GpuSetting } from '../../core/backends/index';
import { type PromptTemplate, DEFAULT_RUN_HISTORY } from '../../core/runner';
import { CONFIGURATION_SECTION } from '../../server/protocol';

export interface RunSettings {
  /** A GGUF path, an hf: URI or openai:MODEL_ID; used when a file has no model profile. */
  readonly defaultModel?: string;
  /** Base URL for `openai:` default models. */
  readonly openaiBaseUrl?: string;
  /** The header the key of `openai:` models goes in (`coi.openai.apiKeyHeader`; unset: api-key for Azure OpenAI hosts, else Authorization). */
  readonly openaiApiKeyHeader?: string;
  readonly threads?: number;
  readonly gpu?: GpuSetting;
  readonly contextSize?: number;
  readonly modelsDir?: string;
  readonly template: PromptTemplate;
  readonly cacheMaxEntries: number;
  /** How much run history the workspace storage keeps (`coi.run.historyMaxRecords`, `coi.run.historyMaxMegabytes`). */
  readonly runHistory: { readonly maxRecords: number; readonly maxBytes: number };
  readonly timeoutMs?: number;
}

const MEGABYTE = 1024 * 1024;

function positive(value: number | undefined | null): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonEmpty(value: string | undefined | null): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** What an `openai:MODEL_ID` spec takes from the settings besides its base URL: the header its key goes in. */
export function specKeyHeader(settings: Pick<RunSettings, 'openaiApiKeyHeader'>): { readonly apiKeyHeader?: string } {
  return settings.openaiApiKeyHeader !== undefined ? { apiKeyHeader: settings.openaiApiKeyHeader } : {};
}

export function runSettings(scope?: vscode.Uri): RunSettings {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION, scope);
  const gpu = config.get<string>('local.gpu', 'auto');
  const defaultModel = nonEmpty(config.get<string>('defaultModel'));
  const openaiBaseUrl = nonEmpty(config.get<string>('openai.baseUrl'));
  const openaiApiKeyHeader = nonEmpty(config.get<string>('openai.apiKeyHeader'));
  const threads = positive(config.get<number>('local.threads'));
  const contextSize = positive(config.get<number>('local.contextSize'));
  const modelsDir = nonEmpty(config.get<string>('local.modelsDir'));
  const timeoutSeconds = positive(config.get<number>('run.timeoutSeconds'));
  const timeoutMs = timeoutSeconds !== undefined ? timeoutSeconds * 1000 : undefined;
  return {
    ...(defaultModel !== undefined ? { defaultModel } : {}),
    ...(openaiBaseUrl !== undefined ? { openaiBaseUrl } : {}),
    ...(openaiApiKeyHeader !== undefined ? { openaiApiKeyHeader } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(gpu !== 'auto' ? { gpu: gpu as GpuSetting } : {}),
    ...(contextSize !== undefined ? { contextSize } : {}),
    ...(modelsDir !== undefined ? { modelsDir } : {}),
    template: config.get<string>('run.promptTemplate', 'chat') === 'alpaca' ? 'alpaca' : 'chat',
    // Window-scoped: one step cache per window, whatever the resource.
    cacheMaxEntries: positive(vscode.workspace.getConfiguration(CONFIGURATION_SECTION).get<number>('run.cacheMaxEntries')) ?? 5000,
    runHistory: {
      maxRecords: Math.floor(positive(vscode.workspace.getConfiguration(CONFIGURATION_SECTION).get<number>('run.historyMaxRecords')) ?? DEFAULT_RUN_HISTORY.maxRecords),
      maxBytes: Math.floor((positive(vscode.workspace.getConfiguration(CONFIGURATION_SECTION).get<number>('run.historyMaxMegabytes')) ?? DEFAULT_RUN_HISTORY.maxBytes / MEGABYTE) * MEGABYTE),
    },
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
