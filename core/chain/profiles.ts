/**
 * Model profiles (`model NAME { ... }`) and sampling parameters: from the
 * syntax tree to the chain model's `ModelProfile` / `SamplingParams`, with
 * diagnostics COI5xx.
 */
import { GPU_SETTINGS, type LoraAdapter, type ModelProfile, type SamplingParams } from './model';
import type { Identifier, ModelDecl, PropertyNode, Value } from '../syntax/ast';
import type { DiagnosticSink } from '../syntax/diagnosticCap';
import { textOf } from '../syntax/visit';
import { diagnostic } from '../diagnostics/codes';
import { closest, didYouMean } from '../diagnostics/suggest';
import { describeValue, readChoice, readNumber, readText } from './values';
import { baseUrlSecretProblem } from './baseUrl';
import { apiKeyHeaderProblem } from './apiKeyHeader';
import { foreignProviderKeyProblem, keyVariableOf, plainHttpKeyProblem } from './keyDestination';

export const PROVIDERS = ['local', 'openai'] as const;
export type Provider = (typeof PROVIDERS)[number];
/** What `gpu` accepts in a local profile. */

export const SAMPLING_KEYS = ['temperature', 'top_p', 'top_k', 'max_tokens', 'seed', 'stop'] as const;
const LOCAL_KEYS = ['path', 'lora', 'context', 'gpu', 'gpu_layers', 'threads'] as const;
const OPENAI_KEYS = ['base_url', 'model', 'api_key_env', 'api_key_header'] as const;
export type SamplingKey = (typeof SAMPLING_KEYS)[number];
/** Every property a `model NAME { ... }` profile takes. */
export type ProfileKey = 'provider' | (typeof LOCAL_KEYS)[number] | (typeof OPENAI_KEYS)[number] | SamplingKey;
const PROFILE_KEYS: readonly string[] = ['provider', ...LOCAL_KEYS, ...OPENAI_KEYS, ...SAMPLING_KEYS];
const KEYS_BY_PROVIDER: Readonly<Record<Provider, readonly string[]>> = { local: LOCAL_KEYS, openai: OPENAI_KEYS };

/** The keys a profile of `provider` uses (every key when the provider is unknown or not written yet). */
export function profileKeysFor(provider: string | undefined): readonly string[] {
  const own = provider === 'local' || provider === 'openai' ? KEYS_BY_PROVIDER[provider] : undefined;
  return own === undefined ? PROFILE_KEYS : ['provider', ...own, ...SAMPLING_KEYS];
}

import type { Mutable } from '../syntax/mutable';

/** The single value of a `key value` line; reports a missing value or extra values. */
export function singleValue(property: PropertyNode, out: DiagnosticSink, code: 'COI505' | 'COI221'): Value | undefined {
  const [first, second] = property.values;
  if (!first) {
    // A value the parser could not read (`12abc`, `.5`) was reported where it is: one diagnostic for it.
    const unreadable = property.span.end > property.key.span.end;
    if (!unreadable) out.push(diagnostic(code, property.key.span, `'${property.key.name}' needs a value.`));
    return undefined;
  }
  if (second) {
    const last = property.values[property.values.length - 1] ?? second;
    out.push(diagnostic(code, { start: second.span.start, end: last.span.end }, `'${property.key.name}' takes one value.`));
  }
  return first;
}

/** Whether `key` is a sampling parameter (allowed in profiles and steps). */
export function isSamplingKey(key: string): boolean {
  return (SAMPLING_KEYS as readonly string[]).includes(key);
}

/** Reads one sampling parameter into `sampling`; reports invalid values. */
export function readSampling(property: PropertyNode, sampling: Mutable<SamplingParams>, out: DiagnosticSink): void {
  const key = property.key.name;
  if (key === 'stop') {
    const stop = readStop(property, out);
    if (stop) sampling.stop = stop;
    return;
  }
  const value = singleValue(property, out, 'COI505');
  if (!value) return;
  const what = `'${key}'`;
  switch (key) {
    case 'temperature': {
      const n = readNumber(value, { min: 0, max: 2 }, what, 'COI505', out);
      if (n !== undefined) sampling.temperature = n;
      return;
    }
    case 'top_p': {
      const n = readNumber(value, { above: 0, max: 1 }, what, 'COI505', out);
      if (n !== undefined) sampling.topP = n;
      return;
    }
    case 'top_k': {
      const n = readNumber(value, { integer: true, min: 0 }, what, 'COI505', out);
      if (n !== undefined) sampling.topK = n;
      return;
    }
    case 'max_tokens': {
      const n = readNumber(value, { integer: true, min: 1 }, what, 'COI505', out);
      if (n !== undefined) sampling.maxTokens = n;
      return;
    }
    case 'seed': {
      const n = readNumber(value, { integer: true }, what, 'COI505', out);
      if (n !== undefined) sampling.seed = n;
      return;
    }
  }
}

function readStop(property: PropertyNode, out: DiagnosticSink): string[] | undefined {
  const value = singleValue(property, out, 'COI505');
  if (!value) return undefined;
  const items = value.kind === 'list' ? value.items : [value];
  const stop: string[] = [];
  for (const item of items) {
    if (item.kind !== 'string') {
      out.push(diagnostic('COI505', item.span, `'stop' takes strings (a string or a list of strings), not ${describeValue(item)}.`));
      continue;
    }
    if (item.value.length === 0) {
      out.push(diagnostic('COI505', item.span, 'An empty stop sequence would stop generation at once.'));
      continue;
    }
    stop.push(item.value);
  }
  return stop;
}

/** Builds one profile; `decl.name` must be present. */
export function buildProfile(decl: ModelDecl & { name: NonNullable<ModelDecl['name']> }, out: DiagnosticSink): ModelProfile | undefined {
  const byKey = new Map<string, PropertyNode>();
  for (const property of decl.properties) {
    const key = property.key.name;
    if (byKey.has(key)) {
      out.push(diagnostic('COI509', property.span, `'${key}' is set twice in model '${decl.name.name}'; the first one counts.`, { unnecessary: true }));
      continue;
    }
    byKey.set(key, property);
  }
  const provider = readProvider(decl, byKey.get('provider'), out);
  const sampling: Mutable<SamplingParams> = {};
  const fields: Record<string, unknown> = {};
  for (const [key, property] of byKey) {
    if (key === 'provider') continue;
    if (key === 'api_key') {
      out.push(
        diagnostic(
          'COI506',
          property.span,
          `Do not write an API key in a .coi file: set 'api_key_env' to the name of an environment variable that holds it (the editor keeps keys in its secret storage).`,
          { data: { replaceWith: 'api_key_env' } },
        ),
      );
      continue;
    }
    if (!PROFILE_KEYS.includes(key)) {
      const suggestion = closest(key, PROFILE_KEYS);
      out.push(
        diagnostic('COI504', property.key.span, `Unknown key '${key}' in model '${decl.name.name}'.${didYouMean(suggestion)}`, {
          ...(suggestion ? { data: { suggestion } } : {}),
        }),
      );
      continue;
    }
    if (isSamplingKey(key)) {
      readSampling(property, sampling, out);
      continue;
    }
    if (provider && !KEYS_BY_PROVIDER[provider].includes(key)) {
      const owner = PROVIDERS.find((p) => KEYS_BY_PROVIDER[p].includes(key));
      out.push(
        diagnostic('COI508', property.key.span, `'${key}' is a setting of provider '${owner ?? '?'}'; provider '${provider}' ignores it.`, { unnecessary: true }),
      );
      continue;
    }
    readProviderKey(property, fields, out);
  }
  if (!provider) return undefined;
  const required = provider === 'local' ? ['path'] : ['base_url', 'model'];
  const missing = required.filter((key) => !byKey.has(key));
  if (missing.length > 0) {
    out.push(
      diagnostic(
        'COI503',
        decl.name.span,
        `Model '${decl.name.name}' (provider ${provider}) needs ${missing.map((k) => `'${k}'`).join(' and ')}.`,
        { data: { missing } },
      ),
    );
    return undefined;
  }
  if (provider === 'local') return localProfile(decl, fields, sampling);
  checkKeyDestination(decl.name.name, fields, byKey, out);
  return openaiProfile(decl, fields, sampling);
}

/**
 * Where the profile's key would go: a well-known provider's variable to another host (COI510),
 * on `api_key_env`; any key over plain http to a host not on this machine (COI511), on `base_url`.
 */
function checkKeyDestination(profileName: string, fields: Record<string, unknown>, byKey: ReadonlyMap<string, PropertyNode>, out: DiagnosticSink): void {
  if (typeof fields.baseUrl !== 'string') return;
  const apiKeyEnv = typeof fields.apiKeyEnv === 'string' ? fields.apiKeyEnv : undefined;
  const spanOf = (key: string) => byKey.get(key)?.values[0]?.span;
  const foreign = apiKeyEnv === undefined ? undefined : foreignProviderKeyProblem(fields.baseUrl, apiKeyEnv, profileName);
  const keySpan = spanOf('api_key_env');
  if (foreign !== undefined && keySpan !== undefined) out.push(diagnostic('COI510', keySpan, foreign));
  const plain = plainHttpKeyProblem(fields.baseUrl, keyVariableOf(fields.baseUrl, apiKeyEnv));
  const urlSpan = spanOf('base_url');
  if (plain !== undefined && urlSpan !== undefined) out.push(diagnostic('COI511', urlSpan, plain));
}

function readProvider(decl: ModelDecl & { name: NonNullable<ModelDecl['name']> }, property: PropertyNode | undefined, out: DiagnosticSink): Provider | undefined {
  if (!property) {
    // A profile without its block was reported (COI105 "expected '{'"): its provider is not missing twice.
    if (!decl.body) return undefined;
    out.push(
      diagnostic('COI502', decl.name.span, `Model '${decl.name.name}' has no 'provider': write \`provider local\` (a GGUF model) or \`provider openai\` (an OpenAI-compatible API).`),
    );
    return undefined;
  }
  const value = singleValue(property, out, 'COI505');
  if (!value) return undefined;
  const text = textOf(value);
  if (text === 'local' || text === 'openai') return text;
  const suggestion = text !== undefined ? closest(text, PROVIDERS) : undefined;
  out.push(
    diagnostic('COI502', value.span, `Unknown provider ${describeValue(value)}; expected local or openai.${didYouMean(suggestion)}`, {
      ...(suggestion ? { data: { suggestion } } : {}),
    }),
  );
  return undefined;
}

/** `lora "adapter.gguf" [SCALE]`: a LoRA adapter GGUF (relative to this file) on the model, scale 1 by default. */
function readLora(property: PropertyNode, fields: Record<string, unknown>, out: DiagnosticSink): void {
  const [file, scale, extra] = property.values;
  if (!file) {
    out.push(diagnostic('COI505', property.key.span, "'lora' needs the adapter's GGUF file (and optionally a scale): lora \"adapter.gguf\" 0.8."));
    return;
  }
  const path = readText(file, "'lora'", 'COI505', out);
  if (extra) out.push(diagnostic('COI505', extra.span, "'lora' takes a GGUF file and an optional scale."));
  if (path === undefined) return;
  if (path.trim() === '') {
    out.push(diagnostic('COI505', file.span, "'lora' is empty: give the adapter's GGUF file."));
    return;
  }
  const factor = scale === undefined ? 1 : readNumber(scale, { min: 0 }, "the scale of 'lora'", 'COI505', out);
  if (factor === undefined) return;
  fields.lora = { path, scale: factor };
}

function readProviderKey(property: PropertyNode, fields: Record<string, unknown>, out: DiagnosticSink): void {
  const key = property.key.name;
  if (key === 'lora') {
    readLora(property, fields, out);
    return;
  }
  const value = singleValue(property, out, 'COI505');
  if (!value) return;
  const what = `'${key}'`;
  switch (key) {
    case 'path': {
      const path = readText(value, what, 'COI505', out);
      if (path === undefined) return;
      if (path.trim() === '') out.push(diagnostic('COI505', value.span, "'path' is empty: give a GGUF file path or an hf: URI."));
      else if (path.startsWith('hf:') && !/^hf:[^/\s]+\/[^\s]+$/.test(path)) {
        out.push(diagnostic('COI505', value.span, `'${path}' is not a valid hf: URI; write hf:OWNER/REPO (optionally :QUANT or /FILE.gguf).`));
      } else fields.path = path;
      return;
    }
    case 'context':
      fields.contextSize = readNumber(value, { integer: true, min: 1 }, what, 'COI505', out);
      return;
    case 'threads':
      fields.threads = readNumber(value, { integer: true, min: 1 }, what, 'COI505', out);
      return;
    case 'gpu':
      fields.gpu = readChoice(value, GPU_SETTINGS, what, 'COI505', out);
      return;
    case 'gpu_layers':
      if (value.kind === 'word' && (value.value === 'auto' || value.value === 'max')) fields.gpuLayers = value.value;
      else if (value.kind === 'number') fields.gpuLayers = readNumber(value, { integer: true, min: 0 }, what, 'COI505', out);
      else out.push(diagnostic('COI505', value.span, `'gpu_layers' must be auto, max or a number of layers, not ${describeValue(value)}.`));
      return;
    case 'base_url': {
      const url = readText(value, what, 'COI505', out);
      if (url === undefined) return;
      const secret = baseUrlSecretProblem(url, "'base_url'", 'name the environment variable that holds the key with `api_key_env "NAME"` instead');
      if (!isHttpUrl(url)) out.push(diagnostic('COI505', value.span, `'base_url' must be an http:// or https:// URL, not ${describeValue(value)}.`));
      else if (secret !== undefined) out.push(diagnostic('COI505', value.span, secret));
      else fields.baseUrl = url;
      return;
    }
    case 'model': {
      const model = readText(value, what, 'COI505', out);
      if (model !== undefined && model.trim() === '') out.push(diagnostic('COI505', value.span, "'model' is empty: give the model id the server knows."));
      else if (model !== undefined) fields.model = model;
      return;
    }
    case 'api_key_env': {
      const name = readText(value, what, 'COI505', out);
      if (name === undefined) return;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        out.push(diagnostic('COI505', value.span, `'api_key_env' is the NAME of an environment variable (such as OPENAI_API_KEY), not ${describeValue(value)}.`));
      } else fields.apiKeyEnv = name;
      return;
    }
    case 'api_key_header': {
      const header = readText(value, what, 'COI505', out);
      if (header === undefined) return;
      const problem = apiKeyHeaderProblem(header, "'api_key_header'");
      if (problem !== undefined) out.push(diagnostic('COI505', value.span, problem));
      else fields.apiKeyHeader = header.trim();
      return;
    }
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function localProfile(decl: ModelDecl & { name: NonNullable<ModelDecl['name']> }, fields: Record<string, unknown>, sampling: SamplingParams): ModelProfile | undefined {
  if (typeof fields.path !== 'string') return undefined;
  return {
    name: decl.name.name,
    provider: 'local',
    path: fields.path,
    ...(typeof fields.contextSize === 'number' ? { contextSize: fields.contextSize } : {}),
    ...(fields.gpuLayers !== undefined ? { gpuLayers: fields.gpuLayers as number | 'auto' | 'max' } : {}),
    ...(typeof fields.gpu === 'string' ? { gpu: fields.gpu as (typeof GPU_SETTINGS)[number] } : {}),
    ...(typeof fields.threads === 'number' ? { threads: fields.threads } : {}),
    ...(fields.lora !== undefined ? { lora: fields.lora as LoraAdapter } : {}),
    sampling,
    span: decl.span,
  };
}

function openaiProfile(decl: ModelDecl & { name: NonNullable<ModelDecl['name']> }, fields: Record<string, unknown>, sampling: SamplingParams): ModelProfile | undefined {
  if (typeof fields.baseUrl !== 'string' || typeof fields.model !== 'string') return undefined;
  return {
    name: decl.name.name,
    provider: 'openai',
    baseUrl: fields.baseUrl,
    model: fields.model,
    ...(typeof fields.apiKeyEnv === 'string' ? { apiKeyEnv: fields.apiKeyEnv } : {}),
    ...(typeof fields.apiKeyHeader === 'string' ? { apiKeyHeader: fields.apiKeyHeader } : {}),
    sampling,
    span: decl.span,
  };
}

/** `model NAME` in a step or a test: the profile must be declared. */
export function readProfileRef(property: PropertyNode, declaredProfiles: ReadonlyMap<string, Identifier>, out: DiagnosticSink): string | undefined {
  const value = singleValue(property, out, 'COI221');
  if (!value) return undefined;
  const name = textOf(value);
  if (name === undefined) {
    out.push(diagnostic('COI221', value.span, `'model' takes the name of a model profile, not ${describeValue(value)}.`));
    return undefined;
  }
  if (!declaredProfiles.has(name)) {
    const suggestion = closest(name, declaredProfiles.keys());
    const known = declaredProfiles.size > 0 ? ` Declared profiles: ${[...declaredProfiles.keys()].join(', ')}.` : ' The file declares no `model` profile.';
    out.push(
      diagnostic('COI507', value.span, `Unknown model profile '${name}'.${didYouMean(suggestion) || known}`, {
        ...(suggestion ? { data: { suggestion } } : {}),
      }),
    );
    return undefined;
  }
  return name;
}

