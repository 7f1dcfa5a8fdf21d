/**
 * "Use as a model profile": the `model` block that makes a fine-tuned model's GGUF (or a
 * LoRA adapter's GGUF on its base's) a profile of a `.coi` file, and where it goes (which jobs can: `profileRefusal` in job.ts).
 */
import { dirname, isAbsolute, relative, sep } from 'node:path';
import type { ModelDecl } from '../syntax/ast';
import { parse } from '../syntax/parser';
import { isIdentifier } from '../syntax/lexer';

export interface ProfileInsertion {
  /** The profile's name (unique in the file). */
  readonly name: string;
  /** Where the block goes: after the last model block, else after the chain header. */
  readonly offset: number;
  /** The text inserted there (the block with the blank lines around it). */
  readonly text: string;
}

/** A profile name from the job id: an identifier, `tuned_` first, not taken in `taken`. */
export function profileName(jobId: string, taken: ReadonlySet<string>): string {
  const cleaned = `tuned_${jobId}`.replace(/[^A-Za-z0-9_]+/g, '_').replace(/_+$/, '');
  const base = isIdentifier(cleaned) ? cleaned : 'tuned_model';
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

/**
 * The path as the `.coi` file at `coiPath` should write it: relative to its folder (a path
 * in a `.coi` file is resolved from there, and the workspace then moves as a whole), with
 * `/`; absolute only when no relative path exists (another drive).
 */
function pathFor(ggufPath: string, coiPath: string | undefined): string {
  if (coiPath === undefined || !isAbsolute(ggufPath)) return ggufPath;
  const rel = relative(dirname(coiPath), ggufPath);
  return isAbsolute(rel) ? ggufPath : rel.split(sep).join('/');
}

/**
 * The `model` block for `ggufPath` and where it goes in `text` (a `.coi` file at `coiPath`).
 * For a LoRA job, `ggufPath` is the base model's GGUF and `loraPath` the adapter's.
 */
export function profileInsertion(text: string, jobId: string, ggufPath: string, coiPath?: string, loraPath?: string): ProfileInsertion {
  const file = parse(text).file;
  const models = file.declarations.filter((d): d is ModelDecl => d.kind === 'model');
  const taken = new Set(models.flatMap((m) => (m.name === undefined ? [] : [m.name.name])));
  const name = profileName(jobId, taken);
  const anchor = models.at(-1) ?? file.declarations.find((d) => d.kind === 'description') ?? file.declarations.find((d) => d.kind === 'chain');
  const offset = anchor === undefined ? 0 : anchor.span.end;
  const lora = loraPath === undefined ? '' : `  lora ${JSON.stringify(pathFor(loraPath, coiPath))}\n`;
  const block = `model ${name} {\n  provider local\n  path ${JSON.stringify(pathFor(ggufPath, coiPath))}\n${lora}}`;
  return { name, offset, text: anchor === undefined ? `${block}\n\n` : `\n\n${block}` };
}
