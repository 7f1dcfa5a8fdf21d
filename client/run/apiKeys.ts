/**
 * API keys for OpenAI-compatible endpoints, kept in VS Code's SecretStorage only
 * (never in settings, files or logs), one per base URL. `CoI: Set API Key`
 * stores one; runs look it up, then fall back to the profile's environment
 * variable. The Together AI fine-tuning engine's key is kept the same way, under its
 * base URL.
 */
import * as vscode from 'vscode';
import type { ModelProfile } from '../../core/chain';
import { resolveApiKey } from '../../core/backends';
import { OPENAI_DEFAULT_BASE_URL } from '../../core/runner';
import { showInfo } from '../notify';

const secretName = (baseUrl: string): string => `coi.apiKey:${baseUrl.replace(/\/+$/, '')}`;

export class ApiKeys {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async keyFor(profile: ModelProfile): Promise<string | undefined> {
    if (profile.provider !== 'openai') return undefined;
    const stored = await this.secrets.get(secretName(profile.baseUrl));
    if (stored !== undefined && stored !== '') return stored;
    return resolveApiKey(profile, process.env);
  }

  /** The key stored for a base URL (a hosted fine-tuning service's too), else the environment variable's. */
  async keyForBaseUrl(baseUrl: string, envVar: string): Promise<string | undefined> {
    const stored = await this.secrets.get(secretName(baseUrl));
    if (stored !== undefined && stored !== '') return stored;
    const fromEnv = process.env[envVar]?.trim();
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  }

  /** Asks for a base URL (offering the given ones) and a key, and stores it. */
  async promptAndStore(knownBaseUrls: readonly string[]): Promise<void> {
    const urls = [...new Set([...knownBaseUrls, OPENAI_DEFAULT_BASE_URL])];
    const other = '$(edit) Another base URL…';
    const picked = await vscode.window.showQuickPick([...urls, other], { title: 'CoI: Set API Key', placeHolder: 'The endpoint the key is for' });
    if (picked === undefined) return;
    const baseUrl =
      picked === other
        ? await vscode.window.showInputBox({ title: 'CoI: Set API Key', prompt: 'Base URL of the OpenAI-compatible server', placeHolder: 'https://api.example.com/v1', ignoreFocusOut: true })
        : picked;
    if (baseUrl === undefined || baseUrl.trim() === '') return;
    const key = await vscode.window.showInputBox({ title: `API key for ${baseUrl}`, password: true, ignoreFocusOut: true, prompt: 'Stored in VS Code Secret Storage. Leave empty to remove the stored key.' });
    if (key === undefined) return;
    if (key === '') {
      await this.secrets.delete(secretName(baseUrl.trim()));
      void showInfo(`Removed the API key for ${baseUrl}.`);
    } else {
      await this.secrets.store(secretName(baseUrl.trim()), key);
      void showInfo(`Stored the API key for ${baseUrl}.`);
    }
  }
}
