/**
 * Short names of an evaluation's models for tables, charts and pickers. `eval.json`
 * keeps each model's key and label as given (a GGUF path can be long:
 * `/home/me/models/jobs/run-3/model-f16.gguf?lora=...`); a report names a local
 * file by its file name, a LoRA model as `base + adapter`, and only adds the
 * folders above a file name when two models would otherwise read the same.
 */
import type { EvalModelConfig } from './types';

/** What a model's label is made of: path segments (local files), or the label as it is. */
interface LabelParts {
  readonly base?: readonly string[];
  readonly adapter?: readonly string[];
  readonly scale?: string;
}

const segmentsOf = (path: string): string[] => path.split(/[\\/]+/).filter((s) => s !== '');

function partsOf(model: EvalModelConfig): LabelParts {
  const spec = model.spec;
  // Profiles, openai: and hf: models already have short names.
  if (spec === undefined || /^(openai|hf):/i.test(spec.trim())) return {};
  const at = spec.lastIndexOf('?lora=');
  if (at < 0) return { base: segmentsOf(spec.trim()) };
  const [adapter = '', ...options] = spec.slice(at + '?lora='.length).split('&');
  const scale = options.map((o) => /^scale=(.+)$/.exec(o)?.[1]).find((s) => s !== undefined);
  return { base: segmentsOf(spec.slice(0, at).trim()), adapter: segmentsOf(adapter.trim()), ...(scale !== undefined && Number(scale) !== 1 ? { scale } : {}) };
}

/** The label with the last `depth` segments of each path (the whole label when it has no path). */
function labelAt(model: EvalModelConfig, parts: LabelParts, depth: number): string {
  if (parts.base === undefined || parts.base.length === 0) return model.label;
  const tail = (segments: readonly string[]): string => segments.slice(-depth).join('/');
  const adapter = parts.adapter !== undefined ? ` + ${tail(parts.adapter)}${parts.scale !== undefined ? ` ×${parts.scale}` : ''}` : '';
  return `${tail(parts.base)}${adapter}`;
}

/** How many models each label names. */
function countsOf(labels: ReadonlyMap<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const label of labels.values()) counts.set(label, (counts.get(label) ?? 0) + 1);
  return counts;
}

/** Short, distinct display names of `models`, by model key. */
export function displayLabels(models: readonly EvalModelConfig[]): Map<string, string> {
  const parts = new Map(models.map((m) => [m.key, partsOf(m)]));
  const depths = new Map(models.map((m) => [m.key, 1]));
  const deepest = Math.max(1, ...[...parts.values()].map((p) => Math.max(p.base?.length ?? 0, p.adapter?.length ?? 0)));
  const labels = (): Map<string, string> => new Map(models.map((m) => [m.key, labelAt(m, parts.get(m.key)!, depths.get(m.key)!)]));
  for (let depth = 1; depth < deepest; depth++) {
    const current = labels();
    const count = countsOf(current);
    const clashing = models.filter((m) => (count.get(current.get(m.key)!) ?? 0) > 1 && parts.get(m.key)?.base !== undefined);
    if (clashing.length === 0) return current;
    for (const m of clashing) depths.set(m.key, depth + 1);
  }
  const final = labels();
  // Still the same after every folder (the same file given two ways): the labels as given.
  const seen = countsOf(final);
  return new Map(models.map((m) => [m.key, (seen.get(final.get(m.key)!) ?? 0) > 1 ? m.label : final.get(m.key)!]));
}
