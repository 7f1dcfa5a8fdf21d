/**
 * The chain of a `.coi` document, parsed and checked by core in the extension
 * host (the language server does not run models), cached per document version.
 */
import * as vscode from 'vscode';
import type { Chain } from '../../core/chain';
import { readTextIfPossible, checkForRun } from '../../core/check';
import type { ChainDecl, CoiFile, Span } from '../../core/syntax';
import { LANGUAGE_ID } from '../../server/protocol';

export interface ParsedChain {
  readonly version: number;
  readonly chain: Chain;
  readonly file: CoiFile;
  /** Whether the chain cannot run (core's checkForRun: the CLI refuses the same chains). */
  readonly hasErrors: boolean;
  /** The first error that stops it, as "line N: CODE message" (shown when a run is refused). */
  readonly firstError?: string;
}

const parsed = new WeakMap<vscode.TextDocument, ParsedChain>();

export function isCoiDocument(document: vscode.TextDocument): boolean {
  return document.languageId === LANGUAGE_ID || document.uri.path.endsWith('.coi');
}

export function parseChainText(text: string, path: string | undefined): Omit<ParsedChain, 'version'> {
  const result = checkForRun(text, { ...(path !== undefined ? { documentPath: path } : {}), readFile: readTextIfPossible });
  const first = result.blocking[0];
  const line = first === undefined ? 0 : text.slice(0, first.span.start).split('\n').length;
  return { chain: result.chain, file: result.file, hasErrors: first !== undefined, ...(first !== undefined ? { firstError: `line ${line}: ${first.code} ${first.message}` } : {}) };
}

export function chainOf(document: vscode.TextDocument): ParsedChain {
  const cached = parsed.get(document);
  if (cached !== undefined && cached.version === document.version) return cached;
  const path = document.uri.scheme === 'file' ? document.uri.fsPath : undefined;
  const fresh = { version: document.version, ...parseChainText(document.getText(), path) };
  parsed.set(document, fresh);
  return fresh;
}

export function rangeOf(document: vscode.TextDocument, span: Span): vscode.Range {
  return new vscode.Range(document.positionAt(span.start), document.positionAt(span.end));
}

/** Where the chain's lenses go: the `chain NAME` line, else the top of the file. */
export function chainDeclSpan(file: CoiFile): Span {
  const decl = file.declarations.find((d): d is ChainDecl => d.kind === 'chain');
  return decl?.span ?? { start: 0, end: 0 };
}
