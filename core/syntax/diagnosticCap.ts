/**
 * The cap on the problems kept for one document, for every reader of a check (the CLI, the
 * language server, a run). A file with a problem on each line gives hundreds of thousands of
 * diagnostics: kept as objects they took a 20 MB file's check out of memory, and an editor
 * would spend seconds drawing squiggles nobody reads.
 *
 * Why 1,000: it is VS Code's own limit per file (more are dropped by the editor anyway), and
 * nobody reads further than that before fixing and checking again. Errors are kept before
 * warnings, warnings before the rest, each in source order — VS Code's order too — so a
 * problem that stops a run is never hidden behind notes. Every problem is still counted, so
 * exit codes and summaries stay exact, and one note (COI000) says how many were left out.
 *
 * One exception: the warnings that a profile would send an API key where it should not go
 * (ALWAYS_KEPT) are always kept, and take their room within the cap: they are few (one or two a
 * profile), a leaked key cannot be taken back, so a thousand padding warnings ahead of a profile
 * must not hide them from `coi check`, the editor or a run. Within the cap, not beyond it: VS
 * Code itself keeps only 1,000 problems a file, the warnings among them in the order given, so
 * one listed past them would be dropped by the editor.
 *
 * Memory stays bounded: the collector holds at most twice the cap and drops the rest as it goes.
 */
import type { Diagnostic, Severity, Span } from './ast';

export const MAX_DIAGNOSTICS_PER_DOCUMENT = 1000;

/** The code of the "N more problems" note (documented in docs/format.md, "Diagnostics: how many"). */
export const LEFT_OUT_CODE = 'COI000';

export type SeverityCounts = Readonly<Record<Severity, number>>;

export const NO_DIAGNOSTICS: SeverityCounts = { error: 0, warning: 0, info: 0, hint: 0 };

/**
 * Codes kept whatever else is found: a provider's API key variable named in a profile for
 * another host (COI510), a key over plain http to a host not on this machine (COI511). At most
 * one of each per profile (core/chain/profiles.ts, checkKeyDestination).
 */
export const ALWAYS_KEPT: ReadonlySet<string> = new Set(['COI510', 'COI511']);

/** Where a stage of the check puts its diagnostics: a plain array (all of them) or a DiagnosticCap. */
export interface DiagnosticSink {
  push(diagnostic: Diagnostic): void;
}

/** Severities from the most serious (0) down. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2, hint: 3 };
const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info', 'hint'];

export interface CapOptions {
  /** How many diagnostics are kept (default MAX_DIAGNOSTICS_PER_DOCUMENT). */
  readonly max?: number | undefined;
  /** Diagnostics less severe than this are neither kept nor counted (`coi check --min-severity`). */
  readonly minSeverity?: Severity | undefined;
}

/**
 * Keeps the `max` most important diagnostics pushed into it (every one with an ALWAYS_KEPT
 * code, then errors first, then by position) and counts all of them.
 */
export class DiagnosticCap implements DiagnosticSink {
  readonly max: number;
  private readonly minRank: number;
  private held: Diagnostic[] = [];
  /** The ALWAYS_KEPT diagnostics: never trimmed; the others get the room they leave. */
  private readonly alwaysKept: Diagnostic[] = [];
  private readonly found: Record<Severity, number> = { ...NO_DIAGNOSTICS };

  constructor(options: CapOptions = {}) {
    this.max = options.max ?? MAX_DIAGNOSTICS_PER_DOCUMENT;
    this.minRank = SEVERITY_RANK[options.minSeverity ?? 'hint'];
  }

  push(diagnostic: Diagnostic): void {
    if (SEVERITY_RANK[diagnostic.severity] > this.minRank) return;
    this.found[diagnostic.severity]++;
    if (ALWAYS_KEPT.has(diagnostic.code)) {
      this.alwaysKept.push(diagnostic);
      return;
    }
    this.held.push(diagnostic);
    // Trimming at twice the cap sorts 2·max items once per max pushes: O(log max) a push.
    if (this.held.length >= 2 * this.max) this.trim();
  }

  /** Problems an earlier stage counted but did not keep (a capped parse's `leftOut`). */
  countLeftOut(counts: SeverityCounts): void {
    for (const severity of SEVERITIES) if (SEVERITY_RANK[severity] <= this.minRank) this.found[severity] += counts[severity];
  }

  /** Every problem pushed or counted, by severity. */
  get counts(): SeverityCounts {
    return { ...this.found };
  }

  /** The kept diagnostics in source order (by start, then end; errors first where both are equal). */
  kept(): Diagnostic[] {
    this.trim();
    return [...this.held, ...this.alwaysKept].sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
  }

  /** How many problems of each severity are counted but not kept. */
  leftOut(): SeverityCounts {
    this.trim();
    const left = { ...this.found };
    for (const diagnostic of [...this.held, ...this.alwaysKept]) left[diagnostic.severity]--;
    return left;
  }

  private trim(): void {
    // A file has only so many profiles, but a generated one could hold thousands: errors keep room.
    const room = Math.max(this.max - this.alwaysKept.length, Math.ceil(this.max / 2));
    if (this.held.length <= room) return;
    // Array.prototype.sort is stable: among equal keys the earlier push stays first.
    this.held.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.span.start - b.span.start || a.span.end - b.span.end);
    this.held.length = room;
  }
}

/** How many problems `counts` holds in all. */
export function totalOf(counts: SeverityCounts): number {
  return counts.error + counts.warning + counts.info + counts.hint;
}

/**
 * The COI000 note after the kept diagnostics when some were left out (undefined when none
 * were): at the start of the last kept one, or at the start of the file. Its count is of the
 * problems left out only: ALWAYS_KEPT ones are kept, never among them.
 */
export function leftOutNote(kept: readonly Diagnostic[], leftOut: SeverityCounts, max = MAX_DIAGNOSTICS_PER_DOCUMENT): Diagnostic | undefined {
  const left = totalOf(leftOut);
  if (left === 0) return undefined;
  const last = kept.at(-1);
  const span: Span = last === undefined ? { start: 0, end: 0 } : { start: last.span.start, end: last.span.start };
  const kinds = SEVERITIES.filter((severity) => leftOut[severity] > 0);
  const only = kinds.length === 1 ? kinds[0] : undefined;
  const what = only === undefined ? `more problems in this file are not shown (${kinds.map((s) => countOf(leftOut[s], s)).join(', ')})` : `more ${noun(only, left)} in this file ${left === 1 ? 'is' : 'are'} not shown`;
  const keyWarnings = kept.some((d) => ALWAYS_KEPT.has(d.code)) ? ', after every warning about where an API key would be sent' : '';
  const message = `${left.toLocaleString('en-US')} ${what}: at most ${max.toLocaleString('en-US')} problems are shown per file, errors first${keyWarnings}.`;
  return { code: LEFT_OUT_CODE, severity: 'info', message, span };
}

function countOf(count: number, severity: Severity): string {
  return `${count.toLocaleString('en-US')} ${noun(severity, count)}`;
}

function noun(severity: Severity, count: number): string {
  const word = severity === 'info' ? 'info' : severity;
  return count === 1 ? word : `${word}s`;
}
