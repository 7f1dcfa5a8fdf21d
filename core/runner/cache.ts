/**
 * The step cache (DESIGN section 5): a step's output keyed by a content hash of
 * (backend, model, parameters, constraint, rendered prompt, upstream outputs).
 * Re-running an unchanged chain costs no model call; editing step k changes
 * k's prompt (a miss), and its new output changes the prompts of the steps that
 * read it, while steps that do not depend on k keep their keys.
 *
 * One JSON file per entry in a directory, bounded by entry count and bytes with
 * least-recently-used eviction (file mtime is the use clock, so the order
 * survives restarts).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendIdentity, SamplingParams, OutputConstraint, Prompt } from '../backends/types';
import { makeDirectories } from '../syntax/directories';
import { removeAbandonedTemporariesOnce, writeWhole } from '../syntax/wholeFile';
import type { FinishReason } from './types';

export interface CacheKeyParts {
  readonly identity: BackendIdentity;
  readonly params: SamplingParams;
  readonly constraint?: OutputConstraint;
  readonly prompt: Prompt;
  /** Outputs of the inputs/steps the prompt was built from, by name. */
  readonly upstream: Readonly<Record<string, string>>;
  /** `stepwise` or `composed` (their prompts differ anyway; this keeps them apart for sure). */
  readonly mode: string;
}

export interface CachedGeneration {
  /** The model's raw text. */
  readonly text: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Why the generation ended (absent in entries written before it was kept). */
  readonly finishReason?: FinishReason;
  /** How long the original generation took. */
  readonly durationMs: number;
  readonly createdAt: string;
}

export interface StepCacheOptions {
  /** Most entries kept (default 5,000). */
  readonly maxEntries?: number;
  /** Most bytes kept on disk (default 64 MiB). */
  readonly maxBytes?: number;
  /**
   * Entries are read, and nothing is written or removed: a folder whose mode lets no one write
   * (read-only for root too, who could write it anyway; the CLI says so and keeps to it).
   */
  readonly readOnly?: boolean;
}

/** JSON with sorted object keys, so equal values always hash equally. */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function cacheKey(parts: CacheKeyParts): string {
  return sha256(stableStringify({ v: 1, ...parts }));
}

const FINISH_REASONS: ReadonlySet<unknown> = new Set<FinishReason>(['stop', 'length', 'stop-sequence', 'content-filter', 'provider-error']);

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** A cache entry read from disk, when each field has its type (`finishReason` may be absent: entries written before it was kept). */
function cachedGeneration(value: unknown): CachedGeneration | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entry = value as Record<string, unknown>;
  if (typeof entry['text'] !== 'string' || !isCount(entry['promptTokens']) || !isCount(entry['completionTokens']) || !isCount(entry['durationMs']) || typeof entry['createdAt'] !== 'string') return undefined;
  if (entry['finishReason'] !== undefined && !FINISH_REASONS.has(entry['finishReason'])) return undefined;
  return entry as unknown as CachedGeneration;
}

interface IndexEntry {
  bytes: number;
  usedAt: number;
}

export class StepCache {
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly readOnly: boolean;
  private index: Map<string, IndexEntry> | undefined;
  private totalBytes = 0;
  private clock = 0;

  constructor(
    readonly directory: string,
    options: StepCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 5000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.readOnly = options.readOnly === true;
  }

  /**
   * The entry, or undefined: a miss, never an error. An entry that cannot be read (deleted, cut
   * short, not JSON, a folder in its place) or whose fields are not of their types (`null`, a
   * number of tokens that is text...) is a miss too, removed where it can be: the step runs again
   * and its answer replaces it.
   */
  get(key: string): CachedGeneration | undefined {
    const entry = this.loadIndex().get(key);
    if (entry === undefined) return undefined;
    let parsed: CachedGeneration | undefined;
    try {
      parsed = cachedGeneration(JSON.parse(readFileSync(this.pathOf(key), 'utf8')));
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      this.forget(key);
      return undefined;
    }
    this.touch(key, entry);
    return parsed;
  }

  set(key: string, value: CachedGeneration): void {
    if (this.readOnly) return;
    const index = this.loadIndex();
    const body = JSON.stringify(value);
    const bytes = Buffer.byteLength(body);
    makeDirectories(this.directory);
    writeWhole(this.pathOf(key), body);
    const previous = index.get(key);
    if (previous !== undefined) this.totalBytes -= previous.bytes;
    index.set(key, { bytes, usedAt: this.now() });
    this.totalBytes += bytes;
    this.evict();
  }

  /** `set`, except that a cache that cannot be written (a read-only disk, $COI_CACHE_DIR a file) is passed over: a cache never fails the work it speeds up. */
  keep(key: string, value: CachedGeneration): void {
    try {
      this.set(key, value);
    } catch {
      // Only a speed-up lost: the answer is used all the same.
    }
  }

  /** Number of entries and bytes on disk. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.loadIndex().size, bytes: this.totalBytes };
  }

  /** Removes every entry. */
  clear(): void {
    for (const key of this.loadIndex().keys()) rmSync(this.pathOf(key), { force: true });
    this.index = new Map();
    this.totalBytes = 0;
  }

  private pathOf(key: string): string {
    return join(this.directory, `${key}.json`);
  }

  /** Monotonic use clock: wall time, nudged so two uses in one millisecond stay ordered. */
  private now(): number {
    this.clock = Math.max(this.clock + 1, Date.now());
    return this.clock;
  }

  private touch(key: string, entry: IndexEntry): void {
    entry.usedAt = this.now();
    if (this.readOnly) return;
    try {
      const seconds = entry.usedAt / 1000;
      utimesSync(this.pathOf(key), seconds, seconds);
    } catch {
      // The order in memory is what matters in this process.
    }
  }

  private forget(key: string): void {
    const entry = this.index?.get(key);
    if (entry === undefined) return;
    this.totalBytes -= entry.bytes;
    this.index?.delete(key);
    if (this.readOnly) return;
    try {
      rmSync(this.pathOf(key), { force: true });
    } catch {
      // A folder in its place, a read-only disk: it stays on disk, and stays a miss.
    }
  }

  private loadIndex(): Map<string, IndexEntry> {
    if (this.index !== undefined) return this.index;
    const index = new Map<string, IndexEntry>();
    this.totalBytes = 0;
    let names: string[] = [];
    try {
      names = readdirSync(this.directory);
    } catch {
      // No directory yet: an empty cache.
    }
    // The temporaries of writers killed midway, from the listing at hand (a read-only cache is left as it is).
    if (!this.readOnly) removeAbandonedTemporariesOnce(this.directory, names);
    for (const name of names) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      try {
        const stat = statSync(join(this.directory, name));
        index.set(name.slice(0, 64), { bytes: stat.size, usedAt: stat.mtimeMs });
        this.totalBytes += stat.size;
      } catch {
        // Removed meanwhile.
      }
    }
    this.index = index;
    return index;
  }

  private evict(): void {
    const index = this.loadIndex();
    if (index.size <= this.maxEntries && this.totalBytes <= this.maxBytes) return;
    const oldestFirst = [...index.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [key] of oldestFirst) {
      if (index.size <= this.maxEntries && this.totalBytes <= this.maxBytes) break;
      this.forget(key);
    }
  }
}
