/**
 * Quick fixes: for every diagnostic code with an obvious fix, the edits that apply it.
 * A fix must leave the file better: tests apply each one and check the result again.
 */
import { CONTRACT_KINDS, MATCHERS, type CoiFile, type Declaration, type Diagnostic, type Span } from '../syntax/ast';
import type { TextEdit } from './rename';

export interface QuickFix {
  readonly title: string;
  readonly edits: readonly TextEdit[];
  /** The one fix an editor may apply with "auto fix". */
  readonly preferred?: boolean;
}

type FixProvider = (ctx: FixContext) => QuickFix[];

interface FixContext {
  readonly file: CoiFile;
  readonly text: string;
  readonly diagnostic: Diagnostic;
}

const providers: Record<string, FixProvider> = {};

/** Registers the fix of a diagnostic code (several codes may share one provider). */
function fix(codes: readonly string[], provider: FixProvider): void {
  for (const code of codes) providers[code] = provider;
}

export function quickFixes(file: CoiFile, text: string, diagnostic: Diagnostic): QuickFix[] {
  const ctx = { file, text, diagnostic };
  const specific = providers[diagnostic.code]?.(ctx) ?? [];
  const generic = specific.length === 0 ? suggestionFix(ctx) : [];
  return [...specific, ...generic];
}

/** The codes that have a quick fix (for documentation and tests). */
export function fixableCodes(): string[] {
  return Object.keys(providers).sort();
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function replace(span: Span, newText: string): TextEdit {
  return { span, newText };
}

function insert(offset: number, newText: string): TextEdit {
  return { span: { start: offset, end: offset }, newText };
}

function lineStart(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && text[i - 1] !== '\n' && text[i - 1] !== '\r') i--;
  return i;
}

function lineEnd(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
  return i;
}

/** The span of the whole lines covering `span`, with the line break after them. */
export function wholeLines(text: string, span: Span): Span {
  const start = lineStart(text, span.start);
  let end = lineEnd(text, Math.max(span.start, span.end - 1));
  if (text[end] === '\r') end++;
  if (text[end] === '\n') end++;
  return { start, end };
}

function indentOf(text: string, offset: number): string {
  const start = lineStart(text, offset);
  return /^[ \t]*/.exec(text.slice(start, lineEnd(text, start)))?.[0] ?? '';
}

function newlineOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

export function declarationAt(file: CoiFile, offset: number): Declaration | undefined {
  return file.declarations.find((d) => d.span.start <= offset && offset <= d.span.end);
}

/** Damerau-free Levenshtein distance (short words only). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** The candidate closest to `word` (within a third of its length), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.ceil(word.length / 3)) ? best : undefined;
}

/** `data.suggestion` (or `data.suggestions`): replace the diagnostic's span with it. */
function suggestionFix({ diagnostic }: FixContext): QuickFix[] {
  const raw = diagnostic.data?.suggestions ?? (diagnostic.data?.suggestion !== undefined ? [diagnostic.data.suggestion] : []);
  const suggestions = Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
  return suggestions.map((s, i) => ({ title: `Change to '${s}'`, edits: [replace(diagnostic.span, s)], ...(i === 0 ? { preferred: true } : {}) }));
}

// ---------------------------------------------------------------------------
// Syntax (core/syntax/lexer.ts SyntaxCodes)
// ---------------------------------------------------------------------------

// COI106 unclosed block: add the `}` after the block's last member.
fix(['COI106'], ({ file, text, diagnostic }) => {
  const decl = declarationAt(file, diagnostic.span.start);
  if (!decl || !('body' in decl) || !decl.body) return [];
  const end = lineEnd(text, decl.body.end);
  return [{ title: "Add the missing '}'", edits: [insert(end, `${newlineOf(text)}${indentOf(text, decl.span.start)}}`)], preferred: true }];
});

// COI109 unmatched `}`: remove it.
fix(['COI109'], ({ diagnostic }) => [{ title: "Remove the unmatched '}'", edits: [replace(diagnostic.span, '')], preferred: true }]);

// COI110 unclosed list: close it at the end of its line.
fix(['COI110'], ({ text, diagnostic }) => {
  const end = lineEnd(text, diagnostic.span.end);
  let at = end;
  const hash = text.slice(diagnostic.span.end, end).search(/\s#/);
  if (hash >= 0) at = diagnostic.span.end + hash;
  while (at > diagnostic.span.end && /\s/.test(text[at - 1] ?? '')) at--;
  return [{ title: "Add the missing ']'", edits: [insert(at, ']')], preferred: true }];
});

// COI105 "expected ...": a misspelled matcher or contract kind gets the closest word.
fix(['COI105'], ({ file, diagnostic }) => {
  const decl = declarationAt(file, diagnostic.span.start);
  if (!decl) return [];
  const words: { span: Span; name: string; vocabulary: readonly string[] }[] = [];
  if (decl.kind === 'test') {
    for (const e of decl.expects) if (e.matcherName && !e.matcher) words.push({ span: e.matcherName.span, name: e.matcherName.name, vocabulary: MATCHERS });
  }
  const contract = decl.kind === 'input' ? decl.contract : decl.kind === 'step' ? decl.output?.contract : undefined;
  if (contract && !contract.contractKind) words.push({ span: contract.kindName.span, name: contract.kindName.name, vocabulary: CONTRACT_KINDS });
  return words
    .filter((w) => w.span.start <= diagnostic.span.end && diagnostic.span.start <= w.span.end)
    .flatMap((w) => {
      const best = closest(w.name, w.vocabulary);
      return best ? [{ title: `Change '${w.name}' to '${best}'`, edits: [replace(w.span, best)], preferred: true }] : [];
    });
});
