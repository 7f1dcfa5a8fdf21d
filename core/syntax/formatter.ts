/**
 * The `.coi` formatter: prints the syntax tree in the canonical layout.
 *
 * - One statement per line; members of a block indented by `indent` spaces (2).
 * - Single spaces between tokens, `key=value` options, `from a, b`, `[a, b]`.
 * - A blank line around every block declaration (model, step, test); between
 *   two one-line declarations (chain, description, input) a blank line is kept
 *   only where the source had one. Inside blocks, runs of blank lines become
 *   one; none after `{` or before `}`.
 * - Every comment is kept: own-line comments stay on their own line (re-indented),
 *   trailing comments stay after their statement (one space before `#`). A
 *   statement with a comment inside it (e.g. within a multi-line list) is kept
 *   as written.
 * - Strings are printed as written, except text blocks, whose lines are
 *   re-indented one level deeper than their statement without changing their
 *   decoded value. Lists stay on one line unless the source breaks the line
 *   right after `[`; then one item per line with a trailing comma.
 * - A file with syntax errors is returned unchanged (nothing can be lost), and
 *   so is any result that would not re-parse to the same values and comments.
 *
 * `format(format(x)) === format(x)` for every input.
 */
import type {
  CoiFile,
  Comment,
  ContractNode,
  Declaration,
  ExpectNode,
  ListValue,
  OptionNode,
  Span,
  StepMember,
  StringValue,
  TestMember,
  Value,
} from './ast';
import { commonIndent, isBlank, lex, T } from './lexer';
import { parse } from './parser';

export interface FormatOptions {
  /** Spaces per indentation level (default 2). */
  readonly indent?: number;
}

/** Replace `span` of the original text with `newText`. */
export interface TextEdit {
  readonly span: Span;
  readonly newText: string;
}

/** Applies non-overlapping edits to a text (formatting, quick fixes and rename edits alike). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.span.start - a.span.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}

/** The canonical layout of `text`; `text` itself when it has syntax errors. */
export function format(text: string, options: FormatOptions = {}): string {
  const result = formatUnits(text, options);
  return result ? result.text : text;
}

/** The edits that format the whole document (one minimal edit, or none). */
export function formatEdits(text: string, options: FormatOptions = {}): TextEdit[] {
  const formatted = format(text, options);
  return minimalEdit(text, formatted);
}

/**
 * The edits that format the declarations intersecting `range` (each touched
 * declaration is formatted whole, with its leading comments). The spacing
 * between declarations is left alone. No edits when the file has syntax errors.
 */
export function formatRangeEdits(text: string, range: Span, options: FormatOptions = {}): TextEdit[] {
  const result = formatUnits(text, options);
  if (!result) return [];
  const edits: TextEdit[] = [];
  for (const unit of result.units) {
    if (unit.source.end < range.start || unit.source.start > range.end) continue;
    const original = text.slice(unit.source.start, unit.source.end);
    if (original === unit.text) continue;
    edits.push(...minimalEdit(original, unit.text).map((e) => shift(e, unit.source.start)));
  }
  return edits;
}

function shift(edit: TextEdit, by: number): TextEdit {
  return { span: { start: edit.span.start + by, end: edit.span.end + by }, newText: edit.newText };
}

/**
 * One edit replacing only the part between the common prefix and suffix. Its ends never fall
 * inside a `\r\n` pair (of either text), nor inside a surrogate pair: an editor applying the
 * edit would otherwise keep half a line break (or of a character) the formatter replaced.
 */
function minimalEdit(before: string, after: string): TextEdit[] {
  if (before === after) return [];
  let prefix = 0;
  const max = Math.min(before.length, after.length);
  while (prefix < max && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  while (prefix > 0 && (splitsPair(before, prefix) || splitsPair(after, prefix))) prefix--;
  let suffix = 0;
  while (suffix < max - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  while (suffix > 0 && (splitsPair(before, before.length - suffix) || splitsPair(after, after.length - suffix))) suffix--;
  return [{ span: { start: prefix, end: before.length - suffix }, newText: after.slice(prefix, after.length - suffix) }];
}

/** True when `offset` falls between the two halves of a `\r\n` or of a surrogate pair. */
function splitsPair(text: string, offset: number): boolean {
  if (offset <= 0 || offset >= text.length) return false;
  const a = text.charCodeAt(offset - 1);
  const b = text.charCodeAt(offset);
  return (a === 13 && b === 10) || (a >= 0xd800 && a <= 0xdbff && b >= 0xdc00 && b <= 0xdfff);
}

interface FormattedUnit {
  /** Source span: the leading comments, the declaration and its trailing comment. */
  readonly source: Span;
  readonly text: string;
}

interface FormatResult {
  readonly text: string;
  readonly units: FormattedUnit[];
}

function formatUnits(text: string, options: FormatOptions): FormatResult | undefined {
  const { file, diagnostics } = parse(text);
  if (diagnostics.length > 0) return undefined;
  const printer = new Printer(text, file, Math.max(0, Math.min(options.indent ?? 2, 16)));
  const result = printer.print();
  if (result.text !== text && !sameContent(file, result.text)) return undefined;
  return result;
}

// ---------------------------------------------------------------------------
// Safety net: the result must hold the same values and comments
// ---------------------------------------------------------------------------

function sameContent(original: CoiFile, formatted: string): boolean {
  const reparsed = parse(formatted);
  if (reparsed.diagnostics.length > 0) return false;
  if (original.comments.length !== reparsed.file.comments.length) return false;
  for (let i = 0; i < original.comments.length; i++) {
    if (original.comments[i]?.text.trimEnd() !== reparsed.file.comments[i]?.text.trimEnd()) return false;
  }
  return sameTree(original.declarations, reparsed.file.declarations);
}

const POSITION_KEYS: ReadonlySet<string> = new Set(['span', 'keyword', 'body', 'negated']);

/** Deep equality of two syntax (sub)trees, ignoring positions (`negated` only counts as present/absent). */
function sameTree(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameTree(a[i], b[i])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key in left) {
    if (key === 'negated') {
      if ((left[key] === undefined) !== (right[key] === undefined)) return false;
    } else if (!POSITION_KEYS.has(key) && !sameTree(left[key], right[key])) return false;
  }
  for (const key in right) if (!(key in left) && right[key] !== undefined) return false;
  return true;
}

/** The tree without spans (and comment texts in order): equal keys mean equal meaning. */
export function contentKey(file: CoiFile): string {
  return JSON.stringify(file, (key, value: unknown) => (key === 'negated' ? true : key === 'span' || key === 'keyword' || key === 'body' || key === 'comments' ? undefined : value)) + JSON.stringify(file.comments.map((c) => c.text.trimEnd()));
}

// ---------------------------------------------------------------------------
// Printer
// ---------------------------------------------------------------------------

type Statement = Declaration | StepMember | TestMember;

const BLOCK_KINDS: ReadonlySet<string> = new Set(['model', 'step', 'test']);

class Printer {
  private readonly comments: readonly Comment[];
  /** Comments that follow code on their line, by the end offset of the token before them. */
  private readonly trailing = new Map<number, Comment>();
  private readonly used = new Set<Comment>();
  private commentCursor = 0;
  private readonly eol: string;
  private lines: string[] = [];
  /** Source offset where the previously printed item ended (for blank-line detection). */
  private previousEnd = 0;
  /** Largest source offset covered by the current unit (its trailing comments included). */
  private unitEnd = 0;
  /** Set after a `{`: the first member follows without a blank line. */
  private afterOpenBrace = false;

  constructor(
    private readonly text: string,
    private readonly file: CoiFile,
    private readonly indentWidth: number,
  ) {
    this.comments = file.comments;
    this.eol = lineBreakOf(text);
    this.indexTrailingComments();
  }

  private indexTrailingComments(): void {
    if (this.comments.length === 0) return;
    const { tokens } = lex(this.text);
    let t = 0;
    let lastCodeEnd = -1;
    let lastCodeLineBreak = true;
    for (const comment of this.comments) {
      while (t < tokens.count && (tokens.starts[t] ?? 0) < comment.span.start) {
        const kind = tokens.kinds[t];
        if (kind === T.newline) lastCodeLineBreak = true;
        else if (kind !== T.eof) {
          lastCodeEnd = tokens.ends[t] ?? 0;
          lastCodeLineBreak = false;
        }
        t++;
      }
      // A text block ends on a later line than it starts: `false` above still holds for it.
      if (!lastCodeLineBreak && lastCodeEnd >= 0) this.trailing.set(lastCodeEnd, comment);
    }
  }

  print(): FormatResult {
    const units: FormattedUnit[] = [];
    const parts: string[] = [];
    let previous: Declaration | undefined;
    for (const declaration of this.file.declarations) {
      const leadingStart = this.nextCommentStart(declaration.span.start);
      const sourceStart = Math.min(leadingStart, declaration.span.start);
      if (previous) {
        const blank = BLOCK_KINDS.has(previous.kind) || BLOCK_KINDS.has(declaration.kind) || this.blankLineBetween(this.previousEnd, sourceStart);
        parts.push(blank ? this.eol + this.eol : this.eol);
      }
      this.lines = [];
      this.unitEnd = declaration.span.end;
      this.previousEnd = sourceStart;
      this.flushComments(declaration.span.start, 0);
      this.declaration(declaration);
      const unitText = this.lines.join(this.eol);
      parts.push(unitText);
      units.push({ source: { start: sourceStart, end: this.unitEnd }, text: unitText });
      this.previousEnd = this.unitEnd;
      previous = declaration;
    }
    // Comments after the last declaration.
    this.lines = [];
    const tailStart = this.nextCommentStart(this.text.length + 1);
    if (tailStart <= this.text.length) {
      if (previous) parts.push(this.blankLineBetween(this.previousEnd, tailStart) ? this.eol + this.eol : this.eol);
      this.previousEnd = tailStart;
      this.flushComments(this.text.length + 1, 0);
      parts.push(this.lines.join(this.eol));
    }
    const body = parts.join('');
    // A byte order mark is kept (the parser skips it, so the safety net cannot see it go).
    const bom = this.text.charCodeAt(0) === 0xfeff ? '\uFEFF' : '';
    return { text: bom + (body.length > 0 ? body + this.eol : ''), units };
  }

  /** Start of the first unprinted comment before `limit`, or `limit`. */
  private nextCommentStart(limit: number): number {
    for (let i = this.commentCursor; i < this.comments.length; i++) {
      const comment = this.comments[i] as Comment;
      if (comment.span.start >= limit) break;
      if (!this.used.has(comment)) return comment.span.start;
    }
    return limit;
  }

  /** Prints the unprinted comments that start before `limit` on their own lines. */
  private flushComments(limit: number, depth: number): void {
    while (this.commentCursor < this.comments.length) {
      const comment = this.comments[this.commentCursor] as Comment;
      if (comment.span.start >= limit) break;
      this.commentCursor++;
      if (this.used.has(comment)) continue;
      this.used.add(comment);
      this.emitLine(depth, comment.text.trimEnd(), comment.span);
    }
  }

  /** Appends a line, with one blank line before it when the source had one. */
  private emitLine(depth: number, content: string, source: Span): void {
    if (this.lines.length > 0 && !this.afterOpenBrace && this.blankLineBetween(this.previousEnd, source.start)) this.lines.push('');
    this.afterOpenBrace = false;
    this.lines.push(this.pad(depth) + content);
    this.previousEnd = Math.max(this.previousEnd, source.end);
  }

  /** Adds the trailing comment that follows the token ending at `end`, if any, to the last line. */
  private attachTrailing(end: number): void {
    const comment = this.trailing.get(end);
    if (!comment || this.used.has(comment)) return;
    this.used.add(comment);
    const last = this.lines.length - 1;
    this.lines[last] = `${this.lines[last] ?? ''} ${comment.text.trimEnd()}`;
    this.previousEnd = Math.max(this.previousEnd, comment.span.end);
    this.unitEnd = Math.max(this.unitEnd, comment.span.end);
  }

  private blankLineBetween(from: number, to: number): boolean {
    let breaks = 0;
    const text = this.text;
    for (let i = from; i < to; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 13 && text.charCodeAt(i + 1) === 10) continue;
      if (ch === 10 || ch === 13) {
        if (++breaks >= 2) return true;
      }
    }
    return false;
  }

  private pad(depth: number): string {
    return ' '.repeat(depth * this.indentWidth);
  }

  // -------------------------------------------------------------------------
  // Statements
  // -------------------------------------------------------------------------

  /** A statement with a comment inside its span is printed as written. */
  private hasInnerComment(span: Span): boolean {
    for (let i = this.commentCursor; i < this.comments.length; i++) {
      const comment = this.comments[i] as Comment;
      if (comment.span.start >= span.end) return false;
      if (comment.span.start > span.start) return true;
    }
    return false;
  }

  private statement(node: Statement, depth: number, print: () => string): void {
    this.flushComments(node.span.start, depth);
    if (this.hasInnerComment(node.span)) {
      for (const comment of this.comments) {
        if (comment.span.start > node.span.start && comment.span.start < node.span.end) this.used.add(comment);
      }
      this.emitLine(depth, this.text.slice(node.span.start, node.span.end), node.span);
    } else {
      this.emitLine(depth, print(), node.span);
    }
    this.attachTrailing(node.span.end);
  }

  private declaration(node: Declaration): void {
    switch (node.kind) {
      case 'chain':
        this.statement(node, 0, () => joinWords('chain', node.name && (node.name.kind === 'identifier' ? node.name.name : this.value(node.name, 0))));
        return;
      case 'description':
        this.statement(node, 0, () => joinWords('description', node.text && this.value(node.text, 0)));
        return;
      case 'input':
        this.statement(node, 0, () => `input ${node.name?.name ?? ''}:${node.contract ? ' ' + this.contract(node.contract, 0) : ''}`);
        return;
      case 'model':
        this.block(node, joinWords('model', node.name?.name), node.properties);
        return;
      case 'step':
        this.block(node, joinWords('step', node.id?.name), node.members);
        return;
      case 'test': {
        const name = node.name && (node.name.kind === 'identifier' ? node.name.name : this.value(node.name, 0));
        this.block(node, joinWords('test', name), node.members);
        return;
      }
    }
  }

  private block(node: Declaration & { readonly body?: Span }, header: string, members: readonly Statement[]): void {
    const body = node.body ?? { start: node.span.end, end: node.span.end };
    // Comments before the `{` (e.g. `step a # note` with `{` on the next line) go above the header.
    this.flushComments(body.start, 0);
    this.emitLine(0, `${header} {`, { start: node.span.start, end: body.start + 1 });
    this.attachTrailing(body.start + 1);
    this.afterOpenBrace = true;
    for (const member of members) this.statement(member, 1, () => this.member(member as StepMember | TestMember, 1));
    const close = body.end - 1;
    this.flushComments(close, 1);
    this.afterOpenBrace = false;
    // No blank line before `}`.
    this.lines.push('}');
    this.previousEnd = body.end;
    this.attachTrailing(body.end);
  }

  private member(node: StepMember | TestMember, depth: number): string {
    switch (node.kind) {
      case 'instruction':
        return joinWords('instruction', node.text && this.value(node.text, depth));
      case 'from':
        return `from ${node.refs.map((r) => r.name).join(', ')}`;
      case 'output':
        return joinWords('output', node.contract && this.contract(node.contract, depth));
      case 'property':
        return [node.key.name, ...node.values.map((v) => this.value(v, depth))].join(' ');
      case 'given':
        return `given ${node.name?.name ?? ''} = ${node.value ? this.value(node.value, depth) : ''}`.trimEnd();
      case 'expect':
        return this.expect(node, depth);
    }
  }

  private expect(node: ExpectNode, depth: number): string {
    const words: string[] = ['expect'];
    if (node.target) words.push(node.target.name);
    if (node.negated) words.push('not');
    if (node.matcherName) words.push(node.matcherName.name);
    if (node.threshold) words.push('>=', node.threshold.raw);
    if (node.value) words.push(this.value(node.value, depth));
    for (const option of node.options) words.push(this.option(option, depth));
    return words.join(' ');
  }

  private contract(node: ContractNode, depth: number): string {
    const words = [node.kindName.name];
    if (node.labels) words.push(this.value(node.labels, depth));
    for (const option of node.options) words.push(this.option(option, depth));
    return words.join(' ');
  }

  private option(node: OptionNode, depth: number): string {
    return `${node.key.name}=${node.value ? this.value(node.value, depth) : ''}`;
  }

  // -------------------------------------------------------------------------
  // Values
  // -------------------------------------------------------------------------

  /** A value printed on a line indented `depth` levels (multi-line values indent from there). */
  private value(node: Value, depth: number): string {
    switch (node.kind) {
      case 'string':
        return node.style === 'block' ? this.textBlock(node, depth) : this.text.slice(node.span.start, node.span.end);
      case 'number':
        return node.raw;
      case 'boolean':
        return node.value ? 'true' : 'false';
      case 'word':
        return node.value;
      case 'list':
        return this.list(node, depth);
    }
  }

  private list(node: ListValue, depth: number): string {
    if (node.items.length === 0) return '[]';
    const first = node.items[0] as Value;
    const multiline = hasLineBreak(this.text, node.span.start + 1, first.span.start);
    if (!multiline) return `[${node.items.map((item) => this.value(item, depth)).join(', ')}]`;
    const inner = this.pad(depth + 1);
    const items = node.items.map((item) => `${inner}${this.value(item, depth + 1)},`);
    return `[${this.eol}${items.join(this.eol)}${this.eol}${this.pad(depth)}]`;
  }

  /**
   * Re-indents a text block: content one level deeper than its line, the closing
   * quotes on their own line at the line's indentation. A one-line block
   * (`"""text"""`) and a first line written after the opening quotes stay as written.
   */
  private textBlock(node: StringValue, depth: number): string {
    const source = this.text.slice(node.span.start, node.span.end);
    const lines = splitLines(source.slice(3, source.length - 3));
    if (lines.length === 1) return source;
    const firstKept = !isBlank(lines[0] ?? '');
    let last = lines.length;
    if (isBlank(lines[last - 1] ?? '')) last--;
    const from = 1;
    const cut = commonIndent(lines, from, last);
    const inner = this.pad(depth + 1);
    const out: string[] = [firstKept ? `"""${lines[0] ?? ''}` : '"""'];
    for (let i = from; i < last; i++) {
      const line = lines[i] ?? '';
      out.push(isBlank(line) ? '' : inner + line.slice(cut));
    }
    out.push(`${this.pad(depth)}"""`);
    return out.join(this.eol);
  }
}

function joinWords(keyword: string, rest: string | undefined): string {
  return rest ? `${keyword} ${rest}` : keyword;
}

/** The file's first line break (`\n`, `\r\n` or a lone `\r`), `\n` when it has none: what formatting and inserted text use. */
export function lineBreakOf(text: string): string {
  const match = /\r\n?|\n/.exec(text);
  return match ? match[0] : '\n';
}

function hasLineBreak(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || ch === 13) return true;
  }
  return false;
}

function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}
