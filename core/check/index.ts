/**
 * `checkDocument`: the full check of a `.coi` document, as the language
 * server, the CLI and the tests see it — syntax (COI1xx), structure (COI2xx),
 * composability (COI3xx), tests (COI4xx) and model profiles (COI5xx), sorted
 * by position. Linear in the size of the document.
 */
import { buildChain } from '../chain/build';
import type { Chain } from '../chain/model';
import { analyzeChain, type ComposabilityOptions } from '../composability';
import { parse } from '../syntax/parser';
import type { CoiFile, Diagnostic } from '../syntax/ast';
import { checkStructure } from './structure';

export { CHECK_CODES, type CheckCode } from '../diagnostics/codes';
export { readTextIfPossible } from './disk';
export type { ComposabilityOptions, ComposabilityWarnings } from '../composability';

export interface CheckOptions {
  /** Path of the document (for `schema_file`, relative to it). */
  readonly documentPath?: string;
  /** Reads a file's text, or undefined when it cannot. Without it, `schema_file` paths are not checked. */
  readonly readFile?: (path: string) => string | undefined;
  /** The static composability analysis: on by default, each warning kind can be turned off. */
  readonly composability?: ComposabilityOptions;
}

export interface CheckResult {
  readonly file: CoiFile;
  readonly chain: Chain;
  readonly diagnostics: Diagnostic[];
}

/** Parses and checks a document. Never throws. */
export function checkDocument(text: string, options: CheckOptions = {}): CheckResult {
  const parsed = parse(text);
  return checkParsed(parsed.file, parsed.diagnostics, options);
}

/** The same, for callers that already hold the parse result (the language server reuses its tree). */
export function checkParsed(file: CoiFile, parseDiagnostics: readonly Diagnostic[], options: CheckOptions = {}): CheckResult {
  const built = buildChain(file, options);
  const diagnostics = [...parseDiagnostics, ...built.diagnostics, ...checkStructure(file, built.chain), ...analyzeChain(built.chain, options.composability)];
  diagnostics.sort(byPosition);
  return { file, chain: built.chain, diagnostics };
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.span.start - b.span.start || a.span.end - b.span.end || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

// What the adapters (client, server, CLI) use from this folder.
export { checkForRun } from './runnable';
