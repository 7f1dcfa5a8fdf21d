/**
 * Where a local model is: a GGUF file path, or a location node-llama-cpp fetches
 * itself. One rule for the model spec, the backend factory and the worker.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** `hf:` / `huggingface:` URIs and URLs: node-llama-cpp downloads these. */
export function isRemoteModelUri(path: string): boolean {
  return /^(hf:|huggingface:|https?:\/\/)/i.test(path);
}

/** A relative GGUF path made absolute against `baseDir` (default: the working folder); URIs and absolute paths unchanged. */
export function resolveModelPath(path: string, baseDir: string = process.cwd()): string {
  return isRemoteModelUri(path) || isAbsolute(path) ? path : resolve(baseDir, path);
}

/** A local model's identity: its file, and its LoRA adapter when one is on it (cached outputs of the bare model never answer for the adapter). */
export function localModelIdentity(path: string, lora: { readonly path: string; readonly scale: number } | undefined): string {
  return lora === undefined ? path : `${path} + lora ${lora.path} × ${lora.scale}`;
}

/** A file's size and modification time (`565184 bytes, modified 1765137600000`), or `missing`; URIs are named as they are. */
export function fileRevision(path: string): string {
  if (isRemoteModelUri(path)) return path;
  try {
    const stat = statSync(path);
    return `${stat.size} bytes, modified ${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * The revision of a local model's identity (BackendIdentity.revision): the model file's size and
 * modification time, its LoRA adapter's, and the context size asked for. A model file replaced at
 * the same path, or a run with another `--context` (which bounds an output without max_tokens),
 * then misses the step cache instead of being answered by the other model's, or the shorter
 * context's, cached outputs.
 */
export function localModelRevision(settings: { readonly path: string; readonly contextSize?: number; readonly lora?: { readonly path: string } }): string {
  const parts = [`model ${fileRevision(settings.path)}`, `context ${settings.contextSize ?? 'auto'}`];
  if (settings.lora !== undefined) parts.push(`lora ${fileRevision(settings.lora.path)}`);
  return parts.join('; ');
}
