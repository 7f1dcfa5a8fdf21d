/**
 * Where a local model is: a GGUF file path, or a location node-llama-cpp fetches
 * itself. One rule for the model spec, the backend factory and the worker.
 */
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
