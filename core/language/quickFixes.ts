/**
 * Quick fixes: for every diagnostic code with an obvious fix, the edits that apply it.
 * A fix must leave the file better: tests apply each one and check the result again.
 */
import { CONTRACT_KINDS, MATCHERS, type CoiFile, type Diagnostic, type Span, type StepDecl, type TestDecl } from '../syntax/ast';
import { fixData } from '../diagnostics/codes';
import { closest } from '../diagnostics/suggest';
import { buildContract, checkedSchema } from '../chain/contracts';
import { placeholderValue } from '../chain/placeholders';
import { ownKeyVariable } from '../chain/keyDestination';
import { FINAL_OUTPUT } from '../chain/tests';
import { scalarText } from '../chain/values';
import { lineBreakOf } from '../syntax/formatter';
import { isIdentifier } from '../syntax/lexer';
import { allSteps, allTests, declarationAt, pathAt, testName, textOf } from '../syntax/visit';
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
  const suggested = suggestionFix(ctx);
  const specific = providers[diagnostic.code]?.(ctx) ?? [];
  return [...suggested, ...specific.map((f) => (suggested.length > 0 ? { title: f.title, edits: f.edits } : f))];
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

/**
 * `data.suggestion`: replace the diagnostic's span with it.
 * Without one, `data.choices` (a closed set of values) offers each choice.
 */
function suggestionFix({ diagnostic }: FixContext): QuickFix[] {
  const { suggestion, choices } = fixData(diagnostic);
  const suggestions = suggestion !== undefined ? [suggestion] : choices !== undefined && choices.length <= 8 ? choices : [];
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
  return [{ title: "Add the missing '}'", edits: [insert(end, `${lineBreakOf(text)}${indentOf(text, decl.span.start)}}`)], preferred: true }];
});

// COI109 unmatched `}`: remove it.
fix(['COI109'], ({ diagnostic }) => [{ title: "Remove the unmatched '}'", edits: [replace(diagnostic.span, '')], preferred: true }]);

// COI110 unclosed list: close it after its last item, at the end of that line's code
// (before a comment: the lexer's comments, so a `#` inside a string is not taken for one).
fix(['COI110'], ({ file, text, diagnostic }) => {
  const list = pathAt(file, diagnostic.span.start).find((node) => node.kind === 'list' && node.span.start === diagnostic.span.start);
  const last = Math.max(diagnostic.span.end, list?.span.end ?? 0);
  const end = lineEnd(text, last);
  const comment = file.comments.find((c) => c.span.start >= last && c.span.start < end);
  let at = comment?.span.start ?? end;
  while (at > last && /\s/.test(text[at - 1] ?? '')) at--;
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
      // More lenient than the checker's default (at least 2 edits), so short misspelt keywords get a fix too.
      const best = closest(w.name, w.vocabulary, Math.max(2, Math.ceil(w.name.length / 3)));
      return best ? [{ title: `Change '${w.name}' to '${best}'`, edits: [replace(w.span, best)], preferred: true }] : [];
    });
});

// ---------------------------------------------------------------------------
// Checker (core/check/codes.ts)
// ---------------------------------------------------------------------------

/** Removes whole lines, or just the span when other code shares its lines. */
function removeLines(text: string, span: Span): TextEdit {
  const lines = wholeLines(text, span);
  const before = text.slice(lines.start, span.start).trim();
  const after = text.slice(span.end, lines.end).trim();
  if (before === '' && (after === '' || after.startsWith('#'))) return replace(lines, '');
  return replace(span, '');
}

/** Removes a list item together with one neighbouring comma. */
function removeListItem(text: string, span: Span): TextEdit {
  const after = /^\s*,\s*/.exec(text.slice(span.end));
  if (after) return replace({ start: span.start, end: span.end + after[0].length }, '');
  const before = /\s*,\s*$/.exec(text.slice(0, span.start));
  if (before) return replace({ start: span.start - before[0].length, end: span.end }, '');
  return replace(span, '');
}

/** Where a new member line goes in a block: before its closing `}` (or after its last line). */
function memberInsertion(text: string, decl: { span: Span; body?: Span }, memberIndent: string, line: string): TextEdit | undefined {
  const body = decl.body;
  if (!body) return undefined;
  const nl = lineBreakOf(text);
  const closed = text[body.end - 1] === '}';
  if (!closed) return insert(lineEnd(text, body.end), `${nl}${memberIndent}${line}`);
  const closing = body.end - 1;
  const closingLineStart = lineStart(text, closing);
  if (text.slice(closingLineStart, closing).trim() === '') return insert(closingLineStart, `${memberIndent}${line}${nl}`);
  // `}` shares a line with a member: put the new member on its own line before it.
  return insert(closing, `${nl}${memberIndent}${line}${nl}${indentOf(text, decl.span.start)}`);
}

function memberIndentOf(text: string, decl: { span: Span }, members: readonly { span: Span }[]): string {
  const first = members[0];
  if (first && lineStart(text, first.span.start) !== lineStart(text, decl.span.start)) return indentOf(text, first.span.start);
  return `${indentOf(text, decl.span.start)}  `;
}

function stepAt(file: CoiFile, offset: number): StepDecl | undefined {
  const decl = declarationAt(file, offset);
  return decl?.kind === 'step' ? decl : undefined;
}

function testAt(file: CoiFile, offset: number): TestDecl | undefined {
  const decl = declarationAt(file, offset);
  return decl?.kind === 'test' ? decl : undefined;
}

// COI201 no chain declaration: add one at the top.
// After a byte order mark (it must stay first), with the file's line break.
fix(['COI201'], ({ text, diagnostic }) => {
  const declaration = (fixData(diagnostic).insert ?? 'chain my_chain\n').replace(/\r?\n/g, lineBreakOf(text));
  return [{ title: 'Add a chain declaration', edits: [insert(text.charCodeAt(0) === 0xfeff ? 1 : 0, declaration)], preferred: true }];
});

// COI202 a second chain/description: remove it.
fix(['COI202'], ({ file, text, diagnostic }) => {
  const decl = declarationAt(file, diagnostic.span.start);
  if (!decl || (decl.kind !== 'chain' && decl.kind !== 'description')) return [];
  return [{ title: `Remove this ${decl.kind} declaration`, edits: [removeLines(text, decl.span)], preferred: true }];
});

// COI207 unused chain input: remove it (and the test values given for it).
fix(['COI207'], ({ file, text, diagnostic }) => {
  const name = fixData(diagnostic).input ?? text.slice(diagnostic.span.start, diagnostic.span.end);
  const decl = file.declarations.find((d) => d.kind === 'input' && d.name?.name === name && d.span.start <= diagnostic.span.start && diagnostic.span.end <= d.span.end);
  if (!decl) return [];
  const edits = [removeLines(text, decl.span)];
  for (const test of file.declarations) {
    if (test.kind !== 'test') continue;
    for (const given of test.givens) if (given.name?.name === name) edits.push(removeLines(text, given.span));
  }
  return [{ title: `Remove the unused input '${name}'`, edits }];
});

// COI209 step without instruction: add one.
fix(['COI209'], ({ file, text, diagnostic }) => {
  const step = stepAt(file, diagnostic.span.start);
  if (!step || step.instruction) return [];
  const edit = memberInsertion(text, step, memberIndentOf(text, step, step.members), 'instruction "Describe what this step does."');
  return edit ? [{ title: 'Add an instruction', edits: [edit], preferred: true }] : [];
});

// COI210 step without output contract: declare `output text`.
fix(['COI210'], ({ file, text, diagnostic }) => {
  const step = stepAt(file, diagnostic.span.start);
  if (!step || step.output) return [];
  const edit = memberInsertion(text, step, memberIndentOf(text, step, step.members), 'output text');
  return edit ? [{ title: "Declare the output contract 'output text'", edits: [edit], preferred: true }] : [];
});

// COI214 label contract without its set: add one to edit.
// The set is made of the labels the tests already expect from the step, when there are some.
fix(['COI214'], ({ file, text, diagnostic }) => {
  const fallback = fixData(diagnostic).insert;
  if (!fallback || text.slice(diagnostic.span.end).trimStart().startsWith('[')) return [];
  const step = stepAt(file, diagnostic.span.start);
  const steps = allSteps(file);
  const expected = new Set<string>();
  for (const test of file.declarations) {
    if (test.kind !== 'test' || !step?.id) continue;
    for (const e of test.expects) {
      const target = e.target?.name;
      const isThisStep = target === step.id.name || (target === FINAL_OUTPUT && steps[steps.length - 1] === step);
      if (!isThisStep || (e.matcher !== 'label' && e.matcher !== 'one_of')) continue;
      const values = e.value?.kind === 'list' ? e.value.items : e.value ? [e.value] : [];
      for (const v of values) if (v.kind === 'word' || v.kind === 'string') expected.add(v.kind === 'word' ? v.value : JSON.stringify(v.value));
    }
  }
  const addition = expected.size > 0 ? ` [${[...expected].join(', ')}]` : fallback;
  return [{ title: 'Add a label set', edits: [insert(diagnostic.span.end, addition)], preferred: true }];
});

// COI215 / COI223 duplicate label, option or reference: remove the repeat.
fix(['COI215', 'COI223'], ({ file, text, diagnostic }) => {
  const inList = diagnostic.code === 'COI223' || isListItem(file, diagnostic.span);
  return [{ title: 'Remove the repeated entry', edits: [inList ? removeListItem(text, diagnostic.span) : removeLeadingSpace(text, diagnostic.span)], preferred: true }];
});

/** True when `span` is an item of a list (a tree path through the span's start reaches the list and the item). */
function isListItem(file: CoiFile, span: Span): boolean {
  return pathAt(file, span.start).some((node) => node.kind === 'list' && node.items.some((item) => item.span.start === span.start && item.span.end === span.end));
}

function removeLeadingSpace(text: string, span: Span): TextEdit {
  let start = span.start;
  while (start > 0 && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
  return replace({ start, end: span.end }, '');
}

// COI220 / COI404 / COI509 a member given twice; COI508 a key the provider ignores: remove the line.
fix(['COI220', 'COI404', 'COI509', 'COI508'], ({ file, text, diagnostic }) => {
  const decl = declarationAt(file, diagnostic.span.start);
  let span = diagnostic.span;
  if (diagnostic.code === 'COI508' && decl?.kind === 'model') {
    span = decl.properties.find((p) => p.key.span.start === diagnostic.span.start)?.span ?? span;
  }
  const title = diagnostic.code === 'COI508' ? 'Remove the ignored key' : 'Remove the repeated line';
  return [{ title, edits: [removeLines(text, span)], preferred: true }];
});

// COI506 an API key in the file: replace the line by `api_key_env` (the key leaves the file).
fix(['COI506'], ({ file, diagnostic }) => {
  const decl = declarationAt(file, diagnostic.span.start);
  const property = decl?.kind === 'model' ? decl.properties.find((p) => p.key.name === 'api_key' && p.span.start <= diagnostic.span.start && diagnostic.span.start <= p.span.end) : undefined;
  const span = property?.span ?? diagnostic.span;
  const key = fixData(diagnostic).replaceWith ?? 'api_key_env';
  // The variable is the server's own: OPENAI_API_KEY only for OpenAI's API, never for another host (COI510).
  const baseUrlValue = decl?.kind === 'model' ? decl.properties.find((p) => p.key.name === 'base_url')?.values[0] : undefined;
  const baseUrl = baseUrlValue === undefined ? undefined : textOf(baseUrlValue);
  const variable = ownKeyVariable(decl?.kind === 'model' ? (decl.name?.name ?? 'api') : 'api', baseUrl);
  return [{ title: `Replace the key by '${key}' (the name of an environment variable)`, edits: [replace(span, `${key} "${variable}"`)], preferred: true }];
});

// COI403 a test gives no value for an input: add `given` lines, each with a value the input's contract accepts.
fix(['COI403'], ({ file, text, diagnostic }) => {
  const test = testAt(file, diagnostic.span.start);
  const { missing = [], values = [] } = fixData(diagnostic);
  if (!test || missing.length === 0) return [];
  const indent = memberIndentOf(text, test, test.members);
  const nl = lineBreakOf(text);
  const givens = missing.map((m, i) => `given ${m} = ${(values.length === missing.length ? values[i] : undefined) ?? placeholderFor(file, m)}`);
  const firstMember = test.members[0];
  const edit =
    firstMember && lineStart(text, firstMember.span.start) !== lineStart(text, test.span.start)
      ? insert(lineStart(text, firstMember.span.start), givens.map((g) => `${indent}${g}${nl}`).join(''))
      : memberInsertion(text, test, indent, givens.join(`${nl}${indent}`));
  return edit ? [{ title: `Give a value for ${missing.map((m) => `'${m}'`).join(', ')}`, edits: [edit], preferred: true }] : [];
});

/** The check's value for a missing input; from the declaration when the diagnostic has none (an inline schema only). */
function placeholderFor(file: CoiFile, name: string): string {
  const decl = file.declarations.find((d) => d.kind === 'input' && d.name?.name === name);
  const node = decl?.kind === 'input' ? decl.contract : undefined;
  const contract = node ? buildContract(node, {}, { push: () => undefined }) : undefined;
  return placeholderValue(contract, contract && checkedSchema(contract));
}

// COI408 a label that is not in the step's label set: add it to the set.
fix(['COI408'], ({ file, text, diagnostic }) => {
  const labels = fixData(diagnostic).labels ?? [];
  const test = testAt(file, diagnostic.span.start);
  if (labels.length === 0 || !test) return [];
  const expect = test.expects.find((e) => e.span.start <= diagnostic.span.start && diagnostic.span.end <= e.span.end);
  const target = expect?.target?.name;
  if (!target) return [];
  const steps = allSteps(file);
  const step = steps.find((s) => s.id?.name === target) ?? (target === FINAL_OUTPUT ? steps[steps.length - 1] : undefined);
  const set = step?.output?.contract?.labels;
  if (!set || text[set.span.end - 1] !== ']') return [];
  // The label as the expectation means it: expectations ignore surrounding space, so the set gets it trimmed.
  const value = expect?.value?.kind === 'list' ? expect.value.items.find((item) => item.span.start === diagnostic.span.start) : expect?.value;
  const meant = (value && scalarText(value)) ?? text.slice(diagnostic.span.start, diagnostic.span.end);
  const trimmed = meant.trim();
  const label = isIdentifier(trimmed) ? trimmed : JSON.stringify(trimmed);
  const at = set.span.end - 1;
  const separator = set.items.length > 0 ? ', ' : '';
  return [{ title: `Add ${label} to the labels of step '${step.id?.name ?? target}'`, edits: [insert(at, `${separator}${label}`)] }];
});

// COI222 a chain without steps: add a first step.
fix(['COI222'], ({ file, text }) => {
  const nl = lineBreakOf(text);
  const separator = text.length === 0 || /[\r\n]$/.test(text) ? nl : `${nl}${nl}`;
  // Steps and inputs share one namespace: the id must not be an input's (COI203).
  const taken = new Set(file.declarations.flatMap((d) => (d.kind === 'input' ? [d.name?.name] : d.kind === 'step' ? [d.id?.name] : [])));
  let id = 'first';
  for (let n = 2; taken.has(id); n++) id = `first_${n}`;
  const step = [`step ${id} {`, '  instruction "Describe what this step does."', '  output text', '}', ''].join(nl);
  return [{ title: 'Add a first step', edits: [insert(text.length, `${separator}${step}`)], preferred: true }];
});

// COI401 two tests with one name: give the second one a new name.
fix(['COI401'], ({ file, diagnostic }) => {
  const test = testAt(file, diagnostic.span.start);
  const name = test?.name;
  const base = test && testName(test);
  if (!name || base === undefined) return [];
  const taken = new Set(allTests(file).map((t) => testName(t) ?? ''));
  let n = 2;
  while (taken.has(`${base} ${n}`)) n++;
  return [{ title: `Rename the test to "${base} ${n}"`, edits: [replace(name.span, JSON.stringify(`${base} ${n}`))], preferred: true }];
});
