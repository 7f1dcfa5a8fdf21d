/**
 * `checkDocument`: the full check of a `.coi` document, as the language
 * server, the CLI and the tests see it — syntax (COI1xx), structure (COI2xx),
 * composability (COI3xx), tests (COI4xx) and model profiles (COI5xx), sorted
 * by position, one diagnostic on a line with a syntax error (./onePerLine.ts). Linear in the
 * size of the document; at most
 * MAX_DIAGNOSTICS_PER_DOCUMENT diagnostics are kept (core/syntax/diagnosticCap.ts).
 */
import { buildChain } from '../chain/build';
import type { Chain } from '../chain/model';
import { analyzeChain, type ComposabilityOptions } from '../composability';
import { parse, parseInto, type ParseResult } from '../syntax/parser';
import type { CoiFile, Diagnostic, Severity } from '../syntax/ast';
import { DiagnosticCap, leftOutNote, SEVERITY_RANK, type DiagnosticSink, type SeverityCounts } from '../syntax/diagnosticCap';
import { SyntaxErrorLineRecorder } from '../syntax/errorLines';
import { spanTouches } from '../syntax/visit';
import { OnePerLine } from './onePerLine';
import { checkStructure } from './structure';

export { CHECK_CODES, type CheckCode } from '../diagnostics/codes';
export { readTextIfPossible } from './disk';
export type { ComposabilityOptions, ComposabilityWarnings } from '../composability';

export interface CheckOptions {
  /** Path of the document (for `schema_file`, relative to it). */
  readonly documentPath?: string;
  /** Reads a file's text, or undefined when it cannot. Without it, `schema_file` paths are not checked. */
  readonly readFile?: (path: string) => string | undefined;
  /** An unsaved document (no folder): a relative `schema_file` is noted as not checked yet (COI224). */
  readonly untitled?: boolean;
  /** The static composability analysis: on by default, each warning kind can be turned off. */
  readonly composability?: ComposabilityOptions;
  /** Report only problems of this severity or a more serious one (default: all). */
  readonly minSeverity?: Severity;
}

export interface CheckResult {
  readonly file: CoiFile;
  readonly chain: Chain;
  /**
   * The problems, sorted by position: the first MAX_DIAGNOSTICS_PER_DOCUMENT (errors first),
   * then, when there are more, one COI000 note that says how many were left out.
   */
  readonly diagnostics: Diagnostic[];
  /** How many problems of each severity the document has, kept or not. */
  readonly counts: SeverityCounts;
  /** How many of them are not in `diagnostics` (all zero when none were left out). */
  readonly leftOut: SeverityCounts;
}

/** Parses and checks a document. Never throws. */
export function checkDocument(text: string, options: CheckOptions = {}): CheckResult {
  return checkParsed(parse(text), options);
}

/** The same, for callers that already hold the parse result (the language server reuses its tree). */
export function checkParsed(parsed: ParseResult, options: CheckOptions = {}): CheckResult {
  const cap = new DiagnosticCap({ minSeverity: options.minSeverity });
  // The checker first: on a line with a syntax error, an error of its before that one replaces it (core/check/onePerLine.ts).
  const onePerLine = new OnePerLine(parsed.file, parsed.errorLines, cap);
  const chain = checkChain(parsed.file, options, onePerLine);
  const replaced = onePerLine.finish();
  for (const diagnostic of parsed.diagnostics) if (!replaced(diagnostic)) cap.push(diagnostic);
  cap.countLeftOut(onePerLine.leftOutAfter(parsed.leftOut, parsed.diagnostics));
  const kept = cap.kept().sort(byPosition);
  const leftOut = cap.leftOut();
  const note = leftOutNote(kept, leftOut, cap.max);
  return { file: parsed.file, chain, diagnostics: note ? [...kept, note] : kept, counts: cap.counts, leftOut };
}

/** The checks after the parse (structure, composability, tests, profiles); the chain they built. */
function checkChain(file: CoiFile, options: CheckOptions, out: DiagnosticSink): Chain {
  const chain = buildChain(file, options, out);
  checkStructure(file, chain, out);
  analyzeChain(chain, options.composability ?? {}, out);
  return chain;
}

/**
 * Every problem whose span touches `offset`, none left out, sorted by position: in a file
 * with more problems than a check keeps, what the capped list may not show (the editor's
 * hover explains them). Checks the whole document again, keeping only these.
 */
export function problemsAt(text: string, offset: number, options: CheckOptions = {}): Diagnostic[] {
  const minRank = SEVERITY_RANK[options.minSeverity ?? 'hint'];
  const syntax: Diagnostic[] = [];
  const found: Diagnostic[] = [];
  const atOffset = (into: Diagnostic[]): DiagnosticSink => ({
    push(diagnostic) {
      if (spanTouches(diagnostic.span, offset) && SEVERITY_RANK[diagnostic.severity] <= minRank) into.push(diagnostic);
    },
  });
  const recorder = new SyntaxErrorLineRecorder(atOffset(syntax));
  const file = parseInto(text, recorder);
  // The same one diagnostic per line as checkParsed: a problem the check does not report is not explained either.
  const onePerLine = new OnePerLine(file, recorder.lines(text), atOffset(found));
  checkChain(file, options, onePerLine);
  const replaced = onePerLine.finish();
  for (const diagnostic of syntax) if (!replaced(diagnostic)) found.push(diagnostic);
  return found.sort(byPosition);
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.span.start - b.span.start || a.span.end - b.span.end || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

// What the adapters (client, server, CLI) use from this folder.
export { checkForRun, composabilityErrors } from './runnable';
