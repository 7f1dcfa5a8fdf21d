/**
 * Settings pulled per resource with `workspace/configuration` (section `coi`), cached per
 * document and dropped on `workspace/didChangeConfiguration`.
 */
import type { Connection } from 'vscode-languageserver/node';
import { CONFIGURATION_SECTION, DEFAULT_SETTINGS, type CoiServerSettings } from './protocol';

export class SettingsStore {
  private readonly perResource = new Map<string, Promise<CoiServerSettings>>();
  private global: CoiServerSettings = DEFAULT_SETTINGS;
  /** Bumped on every configuration change (part of diagnostic result ids). */
  generation = 0;

  constructor(
    private readonly connection: Connection,
    private readonly pullSupported: () => boolean,
  ) {}

  get(uri: string): Promise<CoiServerSettings> {
    if (!this.pullSupported()) return Promise.resolve(this.global);
    let pending = this.perResource.get(uri);
    if (!pending) {
      pending = this.connection.workspace
        .getConfiguration({ scopeUri: uri, section: CONFIGURATION_SECTION })
        .then((raw: unknown) => mergeSettings(raw))
        .catch((error: unknown) => {
          this.connection.console.warn(`Reading the settings for ${uri} failed: ${String(error)}`);
          return DEFAULT_SETTINGS;
        });
      this.perResource.set(uri, pending);
    }
    return pending;
  }

  /** `workspace/didChangeConfiguration`: forget cached values (and take pushed ones). */
  changed(pushed: unknown): void {
    this.perResource.clear();
    this.generation++;
    const section = typeof pushed === 'object' && pushed !== null ? (pushed as Record<string, unknown>)[CONFIGURATION_SECTION] : undefined;
    if (section !== undefined) this.global = mergeSettings(section);
  }

  forget(uri: string): void {
    this.perResource.delete(uri);
  }
}

/** Overlays what the client sent on the defaults, ignoring values of the wrong type. */
export function mergeSettings(raw: unknown): CoiServerSettings {
  return overlay(DEFAULT_SETTINGS, raw) as CoiServerSettings;
}

function overlay(defaults: unknown, raw: unknown): unknown {
  if (typeof defaults !== 'object' || defaults === null) return typeof raw === typeof defaults ? raw : defaults;
  const out: Record<string, unknown> = {};
  const source = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(defaults)) out[key] = overlay(value, source[key]);
  return out;
}
