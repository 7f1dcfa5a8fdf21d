/**
 * The eval store: a folder with `eval.json` (the configuration and its hashes)
 * and `results.jsonl`, one line per finished (item, model, mode), appended with
 * one write each as it finishes (a kill loses at most the line being written).
 * A torn last line is discarded on reading and cut off before appending, so it
 * is redone; a triple is never counted twice (the first line of a triple wins).
 * One process writes a store at a time (storeLock.ts); reading needs no lock.
 */
import { closeSync, existsSync, ftruncateSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, stableStringify } from '../runner/cache';
import { checkWritableFolder, makeDirectories } from '../syntax/directories';
import { acquireStoreLock, isLockFile, isRefusal, type LockRefusal, type StoreLock } from './storeLock';
import { isKnownCutReason, type EvalConfig, type EvalItem, type EvalMode, type EvalResult } from './types';
import type { PromptTemplate } from '../runner/prompt';

export const CONFIG_FILE = 'eval.json';
export const RESULTS_FILE = 'results.jsonl';

/** A store problem the user must act on (another configuration, unreadable files). */
export class EvalStoreError extends Error {
  constructor(
    message: string,
    readonly code: 'config-mismatch' | 'data-changed' | 'in-use' | 'not-a-store' | 'not-empty' | 'unreadable' | 'unwritable',
  ) {
    super(message);
    this.name = 'EvalStoreError';
  }
}

/**
 * A new store's default folder name, `2026-12-05T01-00-00-123Z-NAME`: the time to the
 * millisecond, then the evaluation's name made safe for a path (`coi eval` and the editor).
 */
export function storeFolderName(name: string, now: Date): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
}

/**
 * Makes a new, empty store folder under `parent` for the evaluation `name` and returns its
 * path: `storeFolderName`, or that name with `-2`, `-3`… when it is taken. Each folder is made
 * exclusively (no recursive mkdir), so two evaluations started at the same moment never share
 * one, whichever process gets there first.
 */
export function claimStoreFolder(parent: string, name: string, now: Date = new Date()): string {
  const base = join(parent, storeFolderName(name, now));
  try {
    makeDirectories(parent);
    for (let n = 1; ; n++) {
      const path = n === 1 ? base : `${base}-${n}`;
      try {
        mkdirSync(path);
        return path;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  } catch (error) {
    throw new EvalStoreError(`Cannot write the evaluation store '${base}': ${describeError(error)}.`, 'unwritable');
  }
}

/** The key of a triple. */
export function tripleKey(item: string, model: string, mode: EvalMode): string {
  return `${item}\u0000${model}\u0000${mode}`;
}

/** Hash of what an evaluation measures: source, models (identities), modes, template. */
export function configHashOf(config: Pick<EvalConfig, 'source' | 'models' | 'modes' | 'template'>): string {
  return sha256(
    stableStringify({
      source: config.source,
      models: config.models.map((m) => ({ key: m.key, identity: m.identity })),
      modes: config.modes,
      template: config.template,
    }),
  ).slice(0, 16);
}

/** Hash of the items: ids, chains (spans left out), inputs, references, tests' expectations. */
export function dataHashOf(items: readonly EvalItem[]): string {
  const strip = (_key: string, value: unknown): unknown => (_key === 'span' || _key === 'headerSpan' || _key === 'sourceSpans' ? undefined : value);
  const parts = items.map((item) =>
    JSON.parse(
      JSON.stringify(
        {
          id: item.id,
          chain: { inputs: item.chain.inputs, steps: item.chain.steps, profiles: item.chain.profiles },
          inputs: item.inputs,
          references: item.references,
          finalReference: item.finalReference ?? null,
          wholeReference: item.wholeReference ?? null,
          expectations: item.test?.expectations ?? null,
        },
        strip,
      ),
    ) as unknown,
  );
  return sha256(stableStringify(parts)).slice(0, 16);
}

/** What an item is, for pairing it with another store's: its inputs and references (not its id, nor its chain's wording). */
export function itemFingerprint(item: Pick<EvalItem, 'inputs' | 'references' | 'finalReference' | 'wholeReference'>): string {
  return sha256(stableStringify({ inputs: item.inputs, references: item.references, finalReference: item.finalReference ?? null, wholeReference: item.wholeReference ?? null })).slice(0, 16);
}

export interface StoreContents {
  readonly dir: string;
  readonly config: EvalConfig;
  /** One result per triple, in the order they were written. */
  readonly results: readonly EvalResult[];
  /** Lines that could not be read (not the torn last one), with their line numbers. */
  readonly problems: readonly string[];
  /** Byte length of the complete lines (where appending continues). */
  readonly validBytes: number;
  /** Whether a torn last line was discarded. */
  readonly tornLine: boolean;
}

export function readConfig(dir: string): EvalConfig {
  const path = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A folder that is not there at all (a typo in its name) is said as such, not as a folder without eval.json.
    if (code === 'ENOENT' && !existsSync(dir)) throw new EvalStoreError(`'${dir}' does not exist: name an evaluation store (the folder of --out, with eval.json).`, 'not-a-store');
    if (code === 'ENOENT') throw new EvalStoreError(`'${dir}' is not an evaluation store: it has no ${CONFIG_FILE}.`, 'not-a-store');
    if (code === 'ENOTDIR') throw new EvalStoreError(`'${dir}' is not an evaluation store: it is a file, not a folder.`, 'not-a-store');
    throw new EvalStoreError(`Cannot read ${path}: ${describeError(error)}.`, 'unreadable');
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new EvalStoreError(`${path} is not valid JSON (${(error as Error).message}).`, 'unreadable');
  }
  const c = config as Partial<EvalConfig> | null;
  const version = c !== null && typeof c === 'object' ? (c as { version?: unknown }).version : undefined;
  if (typeof version === 'number' && Number.isInteger(version) && version > STORE_VERSION) {
    throw new EvalStoreError(`${path} was written by a newer CoI Studio (store version ${version}; this one reads up to version ${STORE_VERSION}): update CoI Studio to read it.`, 'unreadable');
  }
  if (c === null || typeof c !== 'object' || c.version !== STORE_VERSION || typeof c.configHash !== 'string' || !Array.isArray(c.models) || !Array.isArray(c.modes) || !Number.isInteger(c.seed)) {
    throw new EvalStoreError(`${path} is not an evaluation configuration written by coi (version 1).`, 'unreadable');
  }
  const modesProblem = modesProblemOf(c.modes as readonly unknown[]);
  if (modesProblem !== undefined) throw new EvalStoreError(`${path}: ${modesProblem}; it is not an evaluation configuration written by coi.`, 'unreadable');
  if (!TEMPLATES.includes(c.template as PromptTemplate)) {
    throw new EvalStoreError(`${path}: "template" is ${JSON.stringify(c.template) ?? 'missing'}, not a template (${TEMPLATES.join(' or ')}); it is not an evaluation configuration written by coi.`, 'unreadable');
  }
  return c as EvalConfig;
}

/** The store version this CoI Studio reads and writes (`version` in eval.json). */
const STORE_VERSION = 1;

const MODES: readonly EvalMode[] = ['stepwise', 'composed'];

const TEMPLATES: readonly PromptTemplate[] = ['chat', 'alpaca'];

/** What is wrong with eval.json's `modes` (each once, of the known ones, at least one), or undefined. */
function modesProblemOf(modes: readonly unknown[]): string | undefined {
  if (modes.length === 0) return '"modes" is empty';
  const unknown = modes.find((m) => !MODES.includes(m as EvalMode));
  if (unknown !== undefined) return `"modes" holds ${JSON.stringify(unknown) ?? String(unknown)}, not a mode (${MODES.join(' or ')})`;
  const twice = modes.find((m, i) => modes.indexOf(m) !== i);
  if (twice !== undefined) return `"modes" names ${JSON.stringify(twice)} twice`;
  return undefined;
}

function isResult(value: unknown): value is EvalResult {
  const r = value as Partial<EvalResult> | null;
  return r !== null && typeof r === 'object' && typeof r.item === 'string' && typeof r.model === 'string' && (r.mode === 'stepwise' || r.mode === 'composed') && Array.isArray(r.steps) && Number.isInteger(r.chainLength) && (r.chainLength ?? -1) >= 0 && r.steps.every(hasReadableFinish);
}

/**
 * A step's `finishReason`, kept only for an output cut short, is absent (lines written before it,
 * whole answers), one of those reasons, or a name such as coi gives them (`context-shift`): a
 * later coi's reason, which this version does not know, read as written and counted as cut (the
 * triple is not run again). Any other value (not text, not a reason's name) is no result.
 */
function hasReadableFinish(step: unknown): boolean {
  const finishReason: unknown = (step as { finishReason?: unknown } | null)?.finishReason;
  return finishReason === undefined || (typeof finishReason === 'string' && (isKnownCutReason(finishReason) || REASON_NAME.test(finishReason)));
}

/** How coi names a finish reason (`length`, `content-filter`): lowercase words joined by hyphens. */
const REASON_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Reads a store; a torn last line (a kill mid-write) is discarded. */
export function readEvalStore(dir: string): StoreContents {
  const config = readConfig(dir);
  let buffer: Buffer;
  try {
    buffer = readFileSync(join(dir, RESULTS_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new EvalStoreError(`Cannot read ${join(dir, RESULTS_FILE)}: ${(error as Error).message}`, 'unreadable');
    buffer = Buffer.alloc(0);
  }
  return { dir, config, ...parseResults(buffer) };
}

function parseResults(buffer: Buffer): Omit<StoreContents, 'dir' | 'config'> {
  const results: EvalResult[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  let offset = 0;
  let line = 0;
  let validBytes = 0;
  let tornLine = false;
  while (offset < buffer.length) {
    const newline = buffer.indexOf(0x0a, offset);
    line++;
    if (newline < 0) {
      // No newline: the write of this line was cut by a kill.
      tornLine = true;
      break;
    }
    const text = buffer.toString('utf8', offset, newline);
    offset = newline + 1;
    validBytes = offset;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      problems.push(`${RESULTS_FILE} line ${line}: not valid JSON; the line is ignored and its triple runs again on --resume.`);
      continue;
    }
    if (!isResult(value)) {
      problems.push(`${RESULTS_FILE} line ${line}: not an evaluation result; ignored.`);
      continue;
    }
    const key = tripleKey(value.item, value.model, value.mode);
    if (seen.has(key)) continue;
    seen.add(key);
    results.push(expandedResult(withStringWarnings(value)));
  }
  return { results, problems, validBytes, tornLine };
}

/**
 * A line's `warnings` as text only: they are notes beside the scores, so a line whose
 * `warnings` are not strings (a hand-edited store) keeps its result, without those.
 */
function withStringWarnings(value: EvalResult): EvalResult {
  const warnings: unknown = value.warnings;
  if (warnings === undefined) return value;
  const { warnings: _dropped, ...rest } = value;
  const text = Array.isArray(warnings) ? warnings.filter((w): w is string => typeof w === 'string') : [];
  return text.length > 0 ? { ...rest, warnings: text } : rest;
}

/**
 * How a result is written: a final output equal to the last step's (a stepwise run's, nearly
 * always) is not written twice but marked `outputIsLastStep` (a 2 MB answer made a 4 MB line).
 */
function storedResult(result: EvalResult): EvalResult | StoredEvalResult {
  const { output, ...final } = result.final;
  if (output === undefined || result.steps.at(-1)?.output !== output) return result;
  return { ...result, final: { ...final, outputIsLastStep: true } };
}

/** A line as read: the final output back where `outputIsLastStep` says it is (lines written before the mark have it in place). */
function expandedResult(value: EvalResult | StoredEvalResult): EvalResult {
  const { outputIsLastStep, ...final } = value.final as StoredEvalResult['final'];
  if (outputIsLastStep !== true) return value;
  const output = value.steps.at(-1)?.output;
  return { ...value, final: output !== undefined ? { ...final, output } : final };
}

/** A `results.jsonl` line whose final output is the last step's. */
interface StoredEvalResult extends Omit<EvalResult, 'final'> {
  readonly final: Omit<EvalResult['final'], 'output'> & { readonly outputIsLastStep?: boolean };
}

/** An open store: its configuration, what is done, and appending. */
export interface EvalStore {
  readonly dir: string;
  readonly config: EvalConfig;
  /** Results already in the store when it was opened, and those appended since. */
  readonly results: readonly EvalResult[];
  has(item: string, model: string, mode: EvalMode): boolean;
  /** Appends one line (one write call, so a kill cannot interleave two results). */
  append(result: EvalResult): void;
  /** Closes the results file and releases the store for another writer. */
  close(): void;
}

function describeMismatch(stored: EvalConfig, config: EvalConfig): string {
  const changes: string[] = [];
  if (stableStringify(stored.source) !== stableStringify(config.source)) changes.push('the source');
  if (stableStringify(stored.models.map((m) => [m.key, m.identity])) !== stableStringify(config.models.map((m) => [m.key, m.identity]))) changes.push(`the models (stored: ${stored.models.map((m) => m.label).join(', ')}; now: ${config.models.map((m) => m.label).join(', ')})`);
  if (stableStringify(stored.modes) !== stableStringify(config.modes)) changes.push(`the modes (stored: ${stored.modes.join(', ')}; now: ${config.modes.join(', ')})`);
  if (stored.template !== config.template) changes.push(`the template (stored: ${stored.template}; now: ${config.template})`);
  return changes.length > 0 ? changes.join(', ') : 'the configuration';
}

/** What differs between the stored items and the new ones, by item where both carry fingerprints (else the old, general words). */
function describeDataChange(stored: EvalConfig, config: EvalConfig): string {
  const before = stored.itemFingerprints;
  const now = config.itemFingerprints;
  if (before === undefined || now === undefined) return 'the chains, inputs or references differ';
  const ids = Object.keys(now);
  const changed = ids.filter((id) => before[id] !== undefined && before[id] !== now[id]);
  const added = ids.filter((id) => before[id] === undefined);
  const removed = Object.keys(before).filter((id) => now[id] === undefined);
  const some = (what: string, list: readonly string[]): string => `${list.length} ${what} (${list.slice(0, 3).map((id) => `"${id}"`).join(', ')}${list.length > 3 ? ', …' : ''})`;
  const parts = [
    ...(changed.length > 0 ? [some(`item${changed.length === 1 ? "'s" : "s'"} inputs or references differ`, changed)] : []),
    ...(added.length > 0 ? [some(`item${added.length === 1 ? ' is' : 's are'} new`, added)] : []),
    ...(removed.length > 0 ? [some(`item${removed.length === 1 ? ' is' : 's are'} gone`, removed)] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : "the items' inputs and references are the same: the chains or the tests' expectations differ";
}

/**
 * Opens the store in `dir` for an evaluation of `config`: creates it (the folder
 * must be empty or missing), or continues it when it holds the same configuration
 * and data; anything else is refused with an EvalStoreError saying what changed.
 * Without `config`, opens an existing store as it is. The store is this process's
 * to write until `close()`: another writer is refused ('in-use').
 */
export function openEvalStore(dir: string, config?: EvalConfig): EvalStore {
  const configPath = join(dir, CONFIG_FILE);
  const existing = existsSync(configPath);
  // A folder its owner made read-only (dr-xr-xr-x) is refused even for root, whom the file
  // system lets write it anyway: results are never appended where no one may write.
  if (config !== undefined || existing) refuseUnwritable(dir);
  if (existing) {
    const stored = readConfig(dir);
    if (config !== undefined && stored.configHash !== config.configHash) {
      throw new EvalStoreError(`The store '${dir}' holds another evaluation: ${describeMismatch(stored, config)} changed. Start a new evaluation with another --out folder.`, 'config-mismatch');
    }
    if (config !== undefined && stored.dataHash !== config.dataHash) {
      throw new EvalStoreError(`The data of the evaluation in '${dir}' changed since it started (${describeDataChange(stored, config)}): its results would not be comparable. Start a new evaluation with another --out folder.`, 'data-changed');
    }
    return whileLocked(lockStore(dir), (lock) => openAppender(dir, stored, lock));
  }
  if (config === undefined) throw new EvalStoreError(`'${dir}' is not an evaluation store: it has no ${CONFIG_FILE}.`, 'not-a-store');
  try {
    makeDirectories(dir);
  } catch (error) {
    throw new EvalStoreError(`Cannot write the evaluation store '${dir}': ${describeError(error)}.`, 'unwritable');
  }
  // Locked before it is made, so that two evaluations started on one new folder cannot both make it.
  return whileLocked(lockStore(dir), (lock) => {
    try {
      if (readdirSync(dir).some((name) => !isLockFile(name))) throw new EvalStoreError(`'${dir}' is not empty and holds no evaluation: choose an empty or new --out folder.`, 'not-empty');
      writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n', { flag: 'wx' });
    } catch (error) {
      if (error instanceof EvalStoreError) throw error;
      throw new EvalStoreError(`Cannot write the evaluation store '${dir}': ${describeError(error)}.`, 'unwritable');
    }
    return openAppender(dir, config, lock);
  });
}

/** `open(lock)`, the lock released if it throws (an opened store releases it on close). */
function whileLocked(lock: StoreLock, open: (lock: StoreLock) => EvalStore): EvalStore {
  try {
    return open(lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

function lockStore(dir: string): StoreLock {
  const lock = acquireStoreLock(dir);
  if (isRefusal(lock)) throw lockRefusalError(dir, lock);
  return lock;
}

function lockRefusalError(dir: string, refusal: LockRefusal): EvalStoreError {
  if (refusal.kind === 'unwritable') return new EvalStoreError(`Cannot write the evaluation store '${dir}': ${describeError(refusal.error)}.`, 'unwritable');
  const who = refusal.holder !== undefined ? `coi (pid ${refusal.holder.pid} on ${refusal.holder.host})` : 'another process';
  return new EvalStoreError(`The evaluation store '${dir}' is being written by ${who}: wait for it to finish, or delete ${refusal.path} if no such process runs.`, 'in-use');
}

function refuseUnwritable(dir: string): void {
  try {
    checkWritableFolder(dir);
  } catch (error) {
    throw new EvalStoreError(`Cannot write the evaluation store '${dir}': ${describeError(error)}.`, 'unwritable');
  }
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'permission denied (read-only)';
  // mkdir's words for a file where a folder must be ("EEXIST: file already exists, mkdir …").
  if (code === 'EEXIST') return 'it is a file, not a folder';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  return (error as Error).message;
}

function openAppender(dir: string, config: EvalConfig, lock: StoreLock): EvalStore {
  const path = join(dir, RESULTS_FILE);
  let fd: number;
  try {
    fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  } catch (error) {
    throw new EvalStoreError(`Cannot write ${path}: ${describeError(error)}.`, 'unwritable');
  }
  const size = fstatSync(fd).size;
  const buffer = Buffer.alloc(size);
  let read = 0;
  while (read < size) read += readSync(fd, buffer, read, size - read, read);
  const contents = parseResults(buffer);
  // Cut a torn last line so the next result starts on a line of its own.
  if (contents.validBytes < size) ftruncateSync(fd, contents.validBytes);
  let position = contents.validBytes;
  const results = [...contents.results];
  const done = new Set(results.map((r) => tripleKey(r.item, r.model, r.mode)));
  return {
    dir,
    config,
    results,
    has: (item, model, mode) => done.has(tripleKey(item, model, mode)),
    append(result) {
      const key = tripleKey(result.item, result.model, result.mode);
      if (done.has(key)) return;
      const bytes = Buffer.from(JSON.stringify(storedResult(result)) + '\n', 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
      position += bytes.length;
      done.add(key);
      results.push(result);
    },
    close() {
      try {
        closeSync(fd);
      } finally {
        lock.release();
      }
    },
  };
}

export interface ResultQuery {
  readonly model?: string;
  readonly mode?: EvalMode;
  /** Items whose id contains this text (case-insensitive). */
  readonly item?: string;
  readonly only?: 'failures' | 'split-failures' | 'expectation-failures';
  readonly sortBy?: 'order' | 'item' | 'final.rougeL' | 'step.rougeL' | 'latencyMs';
  readonly descending?: boolean;
  readonly offset?: number;
  /** Page size (default 50). */
  readonly limit?: number;
}

export interface ResultPage {
  /** Results matching the filter, before paging. */
  readonly total: number;
  readonly offset: number;
  readonly results: readonly EvalResult[];
}

function sortValue(result: EvalResult, by: ResultQuery['sortBy']): number | string {
  switch (by) {
    case 'item':
      return result.item;
    case 'final.rougeL':
      return result.final.rougeL ?? -1;
    case 'step.rougeL': {
      const scored = result.steps.filter((s) => s.rougeL !== undefined);
      return scored.length === 0 ? -1 : scored.reduce((t, s) => t + (s.rougeL ?? 0), 0) / scored.length;
    }
    case 'latencyMs':
      return result.latencyMs;
    default:
      return 0;
  }
}

/** A filtered, sorted page of results (for the side panel's table). */
export function queryResults(results: readonly EvalResult[], query: ResultQuery = {}): ResultPage {
  const needle = query.item?.toLowerCase();
  let matching = results.filter(
    (r) =>
      (query.model === undefined || r.model === query.model) &&
      (query.mode === undefined || r.mode === query.mode) &&
      (needle === undefined || r.item.toLowerCase().includes(needle)) &&
      (query.only !== 'failures' || r.error !== undefined) &&
      (query.only !== 'split-failures' || r.splitFailed) &&
      (query.only !== 'expectation-failures' || (r.expectations ?? []).some((e) => e.status === 'failed' || e.status === 'error')),
  );
  if (query.sortBy !== undefined && query.sortBy !== 'order') {
    const by = query.sortBy;
    const sign = query.descending === true ? -1 : 1;
    matching = matching
      .map((r, i) => ({ r, i, v: sortValue(r, by) }))
      .sort((x, y) => (x.v < y.v ? -sign : x.v > y.v ? sign : x.i - y.i))
      .map((x) => x.r);
  } else if (query.descending === true) matching = [...matching].reverse();
  const offset = Math.max(0, query.offset ?? 0);
  const limit = Math.max(0, query.limit ?? 50);
  return { total: matching.length, offset, results: matching.slice(offset, offset + limit) };
}

/** `queryResults` over the store in `dir`. */
export function readResultsPage(dir: string, query: ResultQuery = {}): ResultPage {
  return queryResults(readEvalStore(dir).results, query);
}
