/**
 * Run records on disk: every run is saved as one JSON file in a storage folder
 * (the workspace storage in the editor, `.coi-cache/runs` for the CLI) so runs can
 * be listed, reopened and compared.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { WorkerInfo } from '../backends/local/protocol';
import type { GenerateRequest, ModelBackend } from '../backends/types';
import { rougeL } from '../metrics/rouge';
import { makeDirectories } from '../syntax/directories';
import { describeFsError } from '../syntax/fsErrors';
import { writeWhole } from '../syntax/wholeFile';
import { recordForStorage } from './storedRecord';
import type { RunRecord, StepStatus } from './types';

/** How much run history a store keeps (the editor's `coi.runs.*` settings; the CLI's defaults). */
export interface RunHistoryLimits {
  /** Most records kept; older ones are deleted on save (default 500). */
  readonly maxRecords?: number;
  /** Most bytes all records take together; the oldest go first, the newest always stays (default 100 MB). */
  readonly maxBytes?: number;
}

export const DEFAULT_RUN_HISTORY: Required<RunHistoryLimits> = { maxRecords: 500, maxBytes: 100 * 1024 * 1024 };

/** What lists of runs show of a record (the store's listing, the side panel's rows). */
export interface RunRecordSummary {
  readonly id: string;
  readonly chain: string;
  /** The `.coi` file, when the record names one. */
  readonly file?: string;
  readonly mode: string;
  readonly model: string;
  readonly startedAt: string;
  readonly status: RunRecord['status'];
  readonly durationMs: number;
}

export function summaryOf(record: RunRecord): RunRecordSummary {
  return {
    id: record.id,
    chain: record.chain,
    ...(record.file !== undefined ? { file: record.file } : {}),
    mode: record.mode,
    model: record.model,
    startedAt: record.startedAt,
    status: record.status,
    durationMs: record.durationMs,
  };
}

export interface RunSummary extends RunRecordSummary {
  readonly path: string;
}

export class RunStore {
  private readonly limits: Required<RunHistoryLimits>;

  constructor(
    readonly directory: string,
    /** A number: the most records kept (older ones are deleted on save). */
    limits: number | RunHistoryLimits = {},
  ) {
    this.limits = { ...DEFAULT_RUN_HISTORY, ...(typeof limits === 'number' ? { maxRecords: limits } : limits) };
  }

  /** Writes the record; returns its path. */
  save(record: RunRecord): string {
    makeDirectories(this.directory);
    const path = this.pathOf(record.id);
    // Huge inputs and outputs are capped on disk (see storedRecord.ts).
    writeWhole(path, JSON.stringify(recordForStorage(record), null, 2));
    this.prune();
    return path;
  }

  /** Runs, newest first; files that are not readable run records are skipped (open() says what is wrong with one). */
  list(filter: { chain?: string; file?: string } = {}): RunSummary[] {
    const summaries: RunSummary[] = [];
    for (const name of this.fileNames()) {
      const path = join(this.directory, name);
      const record = readRecord(path);
      if (record === undefined) continue;
      if (filter.chain !== undefined && record.chain !== filter.chain) continue;
      if (filter.file !== undefined && record.file !== filter.file) continue;
      summaries.push({ ...summaryOf(record), path });
    }
    return summaries.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  }

  open(id: string): RunRecord {
    if (!/^[\w.-]+$/.test(id)) throw new Error(`Not a run id: ${JSON.stringify(id)}`);
    const path = this.pathOf(id);
    const read = readRecordFile(path);
    if (read.ok) return read.record;
    if (read.missing) throw new Error(`No run "${id}" in ${this.directory}`);
    throw new Error(`The run record ${path} cannot be read: ${read.problem}.`);
  }

  private pathOf(id: string): string {
    return join(this.directory, `${id}.json`);
  }

  private fileNames(): string[] {
    try {
      return readdirSync(this.directory).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
  }

  private prune(): void {
    // Ids start with the ISO start time, so name order is age order.
    const names = this.fileNames().sort();
    const kept = names.slice(Math.max(0, names.length - this.limits.maxRecords));
    for (const name of names.slice(0, names.length - kept.length)) rmSync(join(this.directory, name), { force: true });
    // Then by size, oldest first; the newest record always stays.
    const sizes = kept.map((name) => this.sizeOf(name));
    let total = sizes.reduce((sum, size) => sum + size, 0);
    for (const [i, name] of kept.slice(0, -1).entries()) {
      if (total <= this.limits.maxBytes) break;
      rmSync(join(this.directory, name), { force: true });
      total -= sizes[i] ?? 0;
    }
  }

  private sizeOf(name: string): number {
    try {
      return statSync(join(this.directory, name)).size;
    } catch {
      return 0;
    }
  }
}

function readRecord(path: string): RunRecord | undefined {
  const read = readRecordFile(path);
  return read.ok ? read.record : undefined;
}

type RecordRead = { readonly ok: true; readonly record: RunRecord } | { readonly ok: false; readonly missing: boolean; readonly problem: string };

/** A run record file, or what is wrong with it (in words that follow "cannot be read: "). */
function readRecordFile(path: string): RecordRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // In words, as every file error is said (a link loop, a file where a folder must be), not `ELOOP: …, open '…'`.
    return { ok: false, missing: code === 'ENOENT', problem: code === 'EISDIR' ? 'it is a folder' : describeFsError(error) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, missing: false, problem: text.trim() === '' ? 'it is empty' : `it is not JSON (${(error as Error).message})` };
  }
  const problem = recordProblem(value);
  return problem === undefined ? { ok: true, record: value as RunRecord } : { ok: false, missing: false, problem };
}

/**
 * What makes a parsed file not a run record the lists and the side panel can show, or undefined:
 * version 1, the fields every list shows, the inputs as texts, each step an object with its id
 * and status (a record cut short, or of another shape, is not shown as a run of blanks).
 */
function recordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a run record (not a JSON object)';
  const record = value as Record<string, unknown>;
  if (record['version'] !== 1) return `it is not a run record of this version (${record['version'] === undefined ? 'no "version"' : `version ${JSON.stringify(record['version'])}`}, not 1)`;
  const wrong = (name: string, type: string): string => `its "${name}" is ${record[name] === undefined ? 'missing' : `not ${type}`}`;
  for (const name of ['id', 'chain', 'mode', 'model', 'startedAt', 'status']) if (typeof record[name] !== 'string') return wrong(name, 'a string');
  if (typeof record['durationMs'] !== 'number') return wrong('durationMs', 'a number');
  const inputs = record['inputs'];
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs) || Object.values(inputs).some((text) => typeof text !== 'string')) return wrong('inputs', 'an object of texts');
  const steps = record['steps'];
  if (!Array.isArray(steps)) return wrong('steps', 'a list');
  const bad = steps.findIndex((step: unknown) => typeof step !== 'object' || step === null || typeof (step as Record<string, unknown>)['id'] !== 'string' || typeof (step as Record<string, unknown>)['status'] !== 'string');
  if (bad >= 0) return `its step ${bad + 1} is not a step (an object with an "id" and a "status")`;
  return undefined;
}

export interface StepComparison {
  readonly id: string;
  readonly before?: { readonly status: StepStatus; readonly output?: string };
  readonly after?: { readonly status: StepStatus; readonly output?: string };
  /** Same status and identical output. */
  readonly same: boolean;
  /** ROUGE-L F-measure of `after` against `before`, when both have an output. */
  readonly rougeL?: number;
}

/** Step by step, how run `after` differs from run `before` (matched by step id). */
export function compareRuns(before: RunRecord, after: RunRecord): StepComparison[] {
  const ids = [...new Set([...before.steps.map((s) => s.id), ...after.steps.map((s) => s.id)])];
  return ids.map((id) => {
    const a = before.steps.find((s) => s.id === id);
    const b = after.steps.find((s) => s.id === id);
    const score = a?.output !== undefined && b?.output !== undefined ? rougeL(a.output, b.output).fmeasure : undefined;
    return {
      id,
      ...(a !== undefined ? { before: { status: a.status, ...(a.output !== undefined ? { output: a.output } : {}) } } : {}),
      ...(b !== undefined ? { after: { status: b.status, ...(b.output !== undefined ? { output: b.output } : {}) } } : {}),
      same: a !== undefined && b !== undefined && a.status === b.status && a.output === b.output,
      ...(score !== undefined ? { rougeL: score } : {}),
    };
  });
}

/** Where a local model ran, as recorded with a run (`backends` of a CLI `--json` record). */
export interface LocalModelPlacement {
  /** The model as the profile names it (path, hf: URI or URL). */
  readonly model: string;
  /** `cuda`, `metal`, `vulkan`, or `cpu`. */
  readonly gpu: string;
  readonly gpuDevices: readonly string[];
  /** Total VRAM in bytes (0 on CPU). */
  readonly vramBytes: number;
  readonly threads: number;
}

/** A run record with the places its local models ran (additive: older readers ignore the field). */
export type RunRecordWithBackends = RunRecord & { backends?: LocalModelPlacement[] };

export function localModelPlacement(model: string, info: WorkerInfo): LocalModelPlacement {
  return { model, gpu: info.gpu === false ? 'cpu' : info.gpu, gpuDevices: [...info.gpuDeviceNames], vramBytes: info.gpu === false ? 0 : info.vram.total, threads: info.maxThreads };
}

/** `on CPU (1 thread)`, `on CUDA (NVIDIA H200, 139 GiB VRAM)`. */
export function describePlacement(placement: LocalModelPlacement): string {
  if (placement.gpu === 'cpu') return `on CPU (${placement.threads} thread${placement.threads === 1 ? '' : 's'})`;
  const vram = placement.vramBytes > 0 ? `${Math.round(placement.vramBytes / 1024 ** 3)} GiB VRAM` : undefined;
  const details = [placement.gpuDevices.join(', '), vram].filter((d) => d !== undefined && d !== '');
  const names: Readonly<Record<string, string>> = { cuda: 'CUDA', metal: 'Metal', vulkan: 'Vulkan' };
  return `on ${names[placement.gpu] ?? placement.gpu}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

/** `local model tiny.gguf on CPU (1 thread)`: the model's file name, not its whole path (an `hf:` URI whole). */
export function placementLine(placement: LocalModelPlacement): string {
  const name = /^(hf|huggingface):/i.test(placement.model) ? placement.model : /^https?:\/\//i.test(placement.model) ? placement.model.replace(/[?#].*$/, '').split('/').pop() ?? placement.model : basename(placement.model);
  return `local model ${name} ${describePlacement(placement)}`;
}

/**
 * Wraps a backend that can describe its placement so that after its first
 * successful call (the model is loaded then) `onInfo` learns what the worker
 * chose. Other backends pass through.
 */
export function reportingPlacement(backend: ModelBackend, onInfo: (info: WorkerInfo, model: string) => void): ModelBackend {
  const describe = backend.describe?.bind(backend);
  if (describe === undefined) return backend;
  let described = false;
  return {
    identity: backend.identity,
    ...(backend.constrainsDecoding !== undefined ? { constrainsDecoding: backend.constrainsDecoding } : {}),
    describe,
    async generate(request: GenerateRequest) {
      const result = await backend.generate(request);
      if (!described) {
        described = true;
        // Asked before the result is handed on, so the step's end can show it.
        await describe().then(
          (info) => onInfo(info, backend.identity.model),
          () => undefined,
        );
      }
      return result;
    },
    dispose: () => backend.dispose(),
  };
}
