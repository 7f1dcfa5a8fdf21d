/**
 * The engine context the editor acts on jobs with: the workspace, and — for the Together AI
 * engine — the API key from VS Code's SecretStorage (`CoI: Set API Key`, Together's base URL),
 * else TOGETHER_API_KEY. The key travels in memory only, in the context's environment; core
 * hands it to the Together engine alone (core/finetune engines.ts) and to no process it starts
 * (childEnv.ts).
 */
import * as vscode from 'vscode';
import { TOGETHER_API_KEY_ENV, togetherBaseUrl, togetherBaseUrlProblem, withTogetherApiKey, type EngineContext } from '../../core/finetune';
import { ApiKeys } from '../run/apiKeys';
import type { JobRefresh } from './jobSources';

export type EngineContextFor = (workspace: string) => Promise<EngineContext>;

export function engineContexts(secrets: vscode.SecretStorage): EngineContextFor {
  const keys = new ApiKeys(secrets);
  return async (workspace) => {
    // A TOGETHER_BASE_URL holding a secret: no key looked up; the engine refuses the URL when a job uses it.
    if (togetherBaseUrlProblem(process.env) !== undefined) return { workspace };
    const key = await keys.keyForBaseUrl(togetherBaseUrl(process.env), TOGETHER_API_KEY_ENV);
    return key === undefined ? { workspace } : withTogetherApiKey({ workspace }, key);
  };
}

/**
 * How the panel and the job pickers read jobs: through their engines in a trusted workspace; in
 * Restricted Mode as their state files say, since a state.json there may be anyone's and its
 * engine would run Slurm's commands or call Together with the user's key.
 */
export function jobRefresh(contextFor: EngineContextFor): JobRefresh {
  return vscode.workspace.isTrusted ? contextFor : 'as-recorded';
}
