/**
 * The `.coi` parser: hand-written recursive descent over the lexer's tokens.
 *
 * Error-tolerant, linear, never throws. Statements are lines: when a line
 * cannot be read, one diagnostic is reported and the parser skips to the end
 * of that line (or to the `}` that closes the block). A block whose `}` is
 * missing is reported at its `{` and closed before the next line that starts a
 * top-level declaration (or at the end of the file), so one missing brace does
 * not swallow the rest of the file. The tree shape is core/syntax/ast.ts.
 */
import {
  CONTRACT_KINDS,
  MATCHERS,
  type BooleanValue,
  type ChainDecl,
  type CoiFile,
  type ContractKind,
  type ContractNode,
  type Declaration,
  type DescriptionDecl,
  type Diagnostic,
  type ExpectNode,
  type FromNode,
  type GivenNode,
  type Identifier,
  type InputDecl,
  type InstructionNode,
  type ListValue,
  type MatcherKind,
  type ModelDecl,
  type NumberValue,
  type OptionNode,
  type OutputNode,
  type PropertyNode,
  type Span,
  type StepDecl,
  type StepMember,
  type StringValue,
  type TestDecl,
  type TestMember,
  type Value,
  type WordValue,
} from './ast';
import { DiagnosticCap, type DiagnosticSink, type SeverityCounts } from './diagnosticCap';
import { SyntaxErrorLineRecorder, type SyntaxErrorLines } from './errorLines';
import { lexInto, SyntaxCodes, T, TOKEN_KIND_NAMES, tokenProblem, TOP_LEVEL_KEYWORDS, type TokenBuffer } from './lexer';

export interface ParseResult {
  readonly file: CoiFile;
  /** The syntax errors, sorted by position: at most MAX_DIAGNOSTICS_PER_DOCUMENT (core/syntax/diagnosticCap.ts). */
  readonly diagnostics: Diagnostic[];
  /** How many more syntax errors there are (all zero when every one is in `diagnostics`). */
  readonly leftOut: SeverityCounts;
  /** The lines with a syntax error, those left out included: the checker keeps one diagnostic on each. */
  readonly errorLines: SyntaxErrorLines;
}

import type { Mutable } from './mutable';

const CONTRACT_KIND_SET: ReadonlySet<string> = new Set(CONTRACT_KINDS);
const MATCHER_SET: ReadonlySet<string> = new Set(MATCHERS);
const CONTRACT_LIST = CONTRACT_KINDS.join(', ');
const MATCHER_LIST = MATCHERS.join(', ');
/** Words that start block members (named in the hint for a member written at the top level). */
const MEMBER_WORDS: ReadonlySet<string> = new Set(['instruction', 'from', 'output', 'given', 'expect', 'provider', 'path', 'temperature']);
const COMPARISON_EXPECTED = "'>=' before the threshold (as in `rouge_l >= 0.4`)";
/** Lists nest at most this deep (a bound on recursion for any input). */
const MAX_LIST_DEPTH = 64;

/**
 * Parses a whole `.coi` document. Never throws; diagnostics are sorted by position. A file with
 * an error on every line keeps only the first ones (`leftOut` counts the rest): the tree is
 * complete either way.
 */
export function parse(text: string): ParseResult {
  const cap = new DiagnosticCap();
  const recorder = new SyntaxErrorLineRecorder(cap);
  const file = parseInto(text, recorder);
  return { file, diagnostics: cap.kept(), leftOut: cap.leftOut(), errorLines: recorder.lines(text) };
}

/** The same, with every syntax error pushed into `diagnostics` (in the order found): a caller that wants some of them, uncapped. */
export function parseInto(text: string, diagnostics: DiagnosticSink): CoiFile {
  // The parser reports what the lexer could not read as it reads it: the first problem of a line is its one report.
  const { tokens, comments } = lexInto(text, diagnostics, { tokenProblemsToReader: true });
  const parser = new Parser(text, tokens, diagnostics);
  const declarations = parser.parseFile();
  return { kind: 'file', declarations, comments, span: { start: 0, end: text.length }, skipped: parser.skippedText() };
}

class Parser {
  private index = 0;
  /** End offset of the last consumed token that is not a newline. */
  private lastEnd = 0;
  /** Token index where the last `expected` diagnostic was reported (one report per spot). */
  private reportedAt = -1;
  /** Number of newline tokens consumed: identifies the current line for `expected`. */
  private line = 0;
  /** The last line with a reported problem (the parser's or the lexer's): the rest of it gets no other. */
  private reportedLine = -1;
  /** The last earlier line reported once the parser had left it (where a list spanning lines opened): its enclosing lists get no other. */
  private reportedEarlierLine = -1;
  private stopFrom = -1;
  private stopAt = -1;
  private listDepth = 0;
  /** Set when a too-deep list was skipped: the enclosing lists end quietly. */
  private listAbandoned = false;
  /** The spans of the tokens skipped after syntax errors, in order. */
  private readonly skipped: Span[] = [];

  private readonly kinds: Uint8Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly texts: readonly string[];
  private readonly last: number;

  constructor(
    private readonly text: string,
    private readonly buf: TokenBuffer,
    private readonly diagnostics: DiagnosticSink,
  ) {
    this.kinds = buf.kinds;
    this.starts = buf.starts;
    this.ends = buf.ends;
    this.texts = buf.texts;
    this.last = buf.count - 1;
  }

  // -------------------------------------------------------------------------
  // Token access (tokens are indices into the lexer's arrays)
  // -------------------------------------------------------------------------

  /** Kind (a `T` value) of the token `offset` tokens ahead. */
  private kind(offset = 0): number {
    return this.kinds[Math.min(this.index + offset, this.last)] as number;
  }

  private kindOf(token: number): number {
    return this.kinds[token] as number;
  }

  private startOf(token: number): number {
    return this.starts[token] as number;
  }

  private endOf(token: number): number {
    return this.ends[token] as number;
  }

  private textOf(token: number): string {
    return this.texts[token] as string;
  }

  /** Consumes the current token and returns its index. */
  private advance(): number {
    const token = this.index;
    const kind = this.kinds[token];
    if (kind === T.eof) return token;
    this.index++;
    if (kind !== T.newline) this.lastEnd = this.ends[token] as number;
    else this.line++;
    if (this.lexerFound(token)) this.reportTokenProblem(token);
    return token;
  }

  /** The lexer could not read token `token` (COI101, COI108), found it unterminated (COI102, COI103) or with an invalid escape (COI104). */
  private lexerFound(token: number): boolean {
    const kind = this.kinds[token];
    return kind === T.error || (kind === T.string && (!this.buf.terminated(token) || this.buf.badEscape(token)));
  }

  /**
   * The lexer's problem with a token just read: reported unless the line already has one (the
   * first problem met explains the rest of the line). An unterminated text block is reported
   * whatever came before it on its line: it swallows the lines after it. Invalid escapes were
   * reported by the lexer (each is its own fix), and count as the line's problem.
   */
  private reportTokenProblem(token: number): void {
    const problem = tokenProblem(this.text, this.buf, token);
    if (problem && (this.reportedLine !== this.line || problem.code === SyntaxCodes.unterminatedTextBlock)) this.diagnostics.push(problem);
    this.reportedLine = this.line;
  }

  /** A member or statement ends at a newline, at the end of the file, or at the `}` of its block. */
  private atStatementEnd(): boolean {
    const kind = this.kind();
    return kind === T.newline || kind === T.eof || kind === T.rbrace;
  }

  private isIdentifier(token: number, name?: string): boolean {
    return this.kindOf(token) === T.identifier && (name === undefined || this.textOf(token) === name);
  }

  // -------------------------------------------------------------------------
  // Diagnostics
  // -------------------------------------------------------------------------

  private report(code: string, message: string, span: Span, data?: Record<string, unknown>): void {
    const diagnostic: Mutable<Diagnostic> = { code, severity: 'error', message, span };
    if (data) diagnostic.data = data;
    this.diagnostics.push(diagnostic);
  }

  /**
   * `expected X, found Y` at the current token; silent at a token the lexer found a problem with
   * (that problem is reported when the token is read, and explains this one).
   */
  private expected(what: string, data?: Record<string, unknown>): void {
    const token = this.index;
    // One report per line: the first problem explains the rest of it.
    if (this.lexerFound(token) || this.reportedAt === this.index || this.reportedLine === this.line) return;
    this.reportedAt = this.index;
    this.reportedLine = this.line;
    const span = this.kindOf(token) === T.newline || this.kindOf(token) === T.eof ? { start: this.startOf(token), end: this.startOf(token) } : { start: this.startOf(token), end: this.endOf(token) };
    this.report(SyntaxCodes.expected, `Expected ${what}, found ${this.describe(token)}.`, span, data);
  }

  /** Reports a problem of line `line` unless that line has one already (`line` may be an earlier one: where a list opened). */
  private reportOnce(line: number, code: string, message: string, span: Span): void {
    if (this.reportedLine === line || this.reportedEarlierLine === line) return;
    if (line === this.line) this.reportedLine = line;
    else this.reportedEarlierLine = line;
    this.report(code, message, span);
  }

  private describe(token: number): string {
    switch (this.kindOf(token)) {
      case T.identifier:
        return `'${this.textOf(token)}'`;
      case T.number:
        return `the number ${this.textOf(token)}`;
      case T.string:
        return this.buf.style(token) === 'block' ? 'a text block' : 'a string';
      case T.newline:
        return 'the end of the line';
      case T.eof:
        return 'the end of the file';
      case T.error:
        return 'invalid text';
      default:
        return `'${TOKEN_KIND_NAMES[this.kindOf(token)] ?? ''}'`;
    }
  }

  // -------------------------------------------------------------------------
  // Recovery
  // -------------------------------------------------------------------------

  /** Skips to the end of the line (or the `}` of the enclosing block), skipping nested blocks whole. */
  private skipRestOfLine(): void {
    const from = this.index;
    for (;;) {
      const token = this.index;
      if (this.kindOf(token) === T.newline || this.kindOf(token) === T.eof || this.kindOf(token) === T.rbrace) break;
      if (this.kindOf(token) === T.lbrace) this.skipBlock();
      else this.advance();
    }
    this.noteSkipped(from);
  }

  /** Records the tokens from `from` up to the current one as skipped (nothing when none were). */
  private noteSkipped(from: number): void {
    if (this.index > from) this.skipped.push({ start: this.startOf(from), end: this.lastEnd });
  }

  /** The skipped text, with the content of unterminated text blocks, in source order. */
  skippedText(): Span[] {
    const swallowed: Span[] = [];
    for (let i = 0; i <= this.last; i++) {
      if (this.kindOf(i) === T.string && this.buf.style(i) === 'block' && !this.buf.terminated(i)) swallowed.push({ start: this.startOf(i) + 3, end: this.endOf(i) });
    }
    if (swallowed.length === 0) return this.skipped;
    return [...this.skipped, ...swallowed].sort((a, b) => a.start - b.start);
  }

  /** Skips a balanced `{ ... }` (the current token is `{`), stopping early at a declaration start. */
  private skipBlock(): void {
    let depth = 0;
    for (;;) {
      const token = this.index;
      if (this.kindOf(token) === T.eof) return;
      if (depth > 0 && this.isDeclarationStart()) return;
      this.advance();
      if (this.kindOf(token) === T.lbrace) depth++;
      else if (this.kindOf(token) === T.rbrace && --depth === 0) return;
    }
  }

  /**
   * True when the current token starts a top-level declaration even though we
   * are inside a block: `chain`/`description`/`input` at column 0, `step`/`test`
   * at column 0, or `step`/`test`/`model` with a `{` later on the same line.
   */
  private isDeclarationStart(): boolean {
    const token = this.index;
    if (this.kindOf(token) !== T.identifier || !TOP_LEVEL_KEYWORDS.has(this.textOf(token))) return false;
    const word = this.textOf(token);
    if (this.buf.column0(token) && word !== 'model') return true;
    if (word === 'chain' || word === 'description' || word === 'input') return false;
    return this.kindOf(this.nextStop(this.index + 1)) === T.lbrace;
  }

  /**
   * Index of the first `{`, `}`, newline or eof token at or after `from`. The
   * last answer is cached so that repeated questions on one line stay linear.
   */
  private nextStop(from: number): number {
    if (from >= this.stopFrom && from <= this.stopAt) return this.stopAt;
    const kinds = this.kinds;
    let i = Math.min(from, this.last);
    while (i < this.last) {
      const kind = kinds[i];
      if (kind === T.lbrace || kind === T.rbrace || kind === T.newline) break;
      i++;
    }
    this.stopFrom = from;
    this.stopAt = i;
    return i;
  }

  /** After a statement: anything left on the line is reported once and skipped. */
  private endStatement(): void {
    if (this.atStatementEnd()) return;
    this.expected('the end of the line');
    this.skipRestOfLine();
  }

  // -------------------------------------------------------------------------
  // File and declarations
  // -------------------------------------------------------------------------

  parseFile(): Declaration[] {
    const declarations: Declaration[] = [];
    for (;;) {
      const token = this.index;
      if (this.kindOf(token) === T.eof) break;
      if (this.kindOf(token) === T.newline) {
        this.advance();
        continue;
      }
      if (this.kindOf(token) === T.identifier && TOP_LEVEL_KEYWORDS.has(this.textOf(token))) {
        declarations.push(this.parseDeclaration(this.textOf(token)));
        continue;
      }
      if (this.kindOf(token) === T.rbrace) {
        this.reportOnce(this.line, SyntaxCodes.unmatchedBrace, "Unmatched '}': there is no open block to close.", { start: this.startOf(token), end: this.endOf(token) });
        this.advance();
        continue;
      }
      if (this.kindOf(token) === T.identifier) {
        this.reportedLine = this.line;
        this.report(
          SyntaxCodes.unknownDeclaration,
          `Unknown declaration '${this.textOf(token)}': expected chain, description, model, input, step or test${MEMBER_WORDS.has(this.textOf(token)) ? ` ('${this.textOf(token)}' belongs inside a block)` : ''}.`,
          { start: this.startOf(token), end: this.endOf(token) },
          { found: this.textOf(token) },
        );
      } else {
        this.expected('a declaration (chain, description, model, input, step or test)');
      }
      this.skipRestOfLine();
    }
    return declarations;
  }

  private parseDeclaration(keyword: string): Declaration {
    switch (keyword) {
      case 'chain':
        return this.parseChain();
      case 'description':
        return this.parseDescription();
      case 'model':
        return this.parseModel();
      case 'input':
        return this.parseInput();
      case 'step':
        return this.parseStep();
      default:
        return this.parseTest();
    }
  }

  private keywordSpan(): Span {
    const token = this.advance();
    return { start: this.startOf(token), end: this.endOf(token) };
  }

  private parseChain(): ChainDecl {
    const keyword = this.keywordSpan();
    const node: Mutable<ChainDecl> = { kind: 'chain', keyword, span: keyword };
    const token = this.index;
    if (this.kindOf(token) === T.identifier) node.name = this.identifier();
    else if (this.kindOf(token) === T.string) node.name = this.stringValue();
    else this.expected("the chain's name (an identifier or a string) after 'chain'");
    node.span = { start: keyword.start, end: this.lastEnd };
    this.endStatement();
    return node;
  }

  private parseDescription(): DescriptionDecl {
    const keyword = this.keywordSpan();
    const node: Mutable<DescriptionDecl> = { kind: 'description', keyword, span: keyword };
    if (this.kind() === T.string) node.text = this.stringValue();
    else this.expected("a string or a \"\"\" text block after 'description'");
    node.span = { start: keyword.start, end: this.lastEnd };
    this.endStatement();
    return node;
  }

  private parseInput(): InputDecl {
    const keyword = this.keywordSpan();
    const node: Mutable<InputDecl> = { kind: 'input', keyword, span: keyword };
    if (this.kind() === T.identifier) {
      node.name = this.identifier();
      if (this.kind() === T.colon) {
        this.advance();
        node.contract = this.parseContract();
      } else {
        this.expected(`':' and the input's type after '${node.name.name}' (as in \`input ${node.name.name}: text\`)`);
        // Tolerate a forgotten colon: `input article text`.
        if (this.kind() === T.identifier) node.contract = this.parseContract();
      }
    } else {
      this.expected("the input's name after 'input'");
    }
    node.span = { start: keyword.start, end: this.lastEnd };
    this.endStatement();
    return node;
  }

  private parseModel(): ModelDecl {
    const keyword = this.keywordSpan();
    const node: Mutable<ModelDecl> = { kind: 'model', keyword, properties: [], span: keyword };
    if (this.kind() === T.identifier) node.name = this.identifier();
    else this.expected("the profile's name after 'model'");
    const properties: PropertyNode[] = [];
    const label = node.name ? `model '${node.name.name}'` : 'the model profile';
    const body = this.parseBlock(label, () => {
      const member = this.parseMemberKey('a model setting (provider, path, temperature, ...)');
      if (member) properties.push(this.parseProperty(member));
    });
    node.properties = properties;
    if (body) node.body = body;
    node.span = { start: keyword.start, end: this.lastEnd };
    return node;
  }

  private parseStep(): StepDecl {
    const keyword = this.keywordSpan();
    const node: Mutable<StepDecl> = { kind: 'step', keyword, properties: [], members: [], span: keyword };
    if (this.kind() === T.identifier) node.id = this.identifier();
    else this.expected("the step's id after 'step'");
    const members: StepMember[] = [];
    const properties: PropertyNode[] = [];
    const label = node.id ? `step '${node.id.name}'` : 'the step';
    const body = this.parseBlock(label, () => {
      const key = this.parseMemberKey('a step member (instruction, from, output or a setting)');
      if (!key) return;
      let member: StepMember;
      if (key.name === 'instruction') {
        member = this.parseInstruction(key);
        node.instruction ??= member;
      } else if (key.name === 'from') {
        member = this.parseFrom(key);
        node.from ??= member;
      } else if (key.name === 'output') {
        member = this.parseOutput(key);
        node.output ??= member;
      } else {
        member = this.parseProperty(key);
        properties.push(member);
      }
      members.push(member);
    });
    node.members = members;
    node.properties = properties;
    if (body) node.body = body;
    node.span = { start: keyword.start, end: this.lastEnd };
    return node;
  }

  private parseTest(): TestDecl {
    const keyword = this.keywordSpan();
    const node: Mutable<TestDecl> = { kind: 'test', keyword, givens: [], expects: [], properties: [], members: [], span: keyword };
    const token = this.index;
    if (this.kindOf(token) === T.string) node.name = this.stringValue();
    else if (this.kindOf(token) === T.identifier) node.name = this.identifier();
    else this.expected("the test's name (a string or an identifier) after 'test'");
    const givens: GivenNode[] = [];
    const expects: ExpectNode[] = [];
    const properties: PropertyNode[] = [];
    const members: TestMember[] = [];
    const label = node.name ? `test ${node.name.kind === 'string' ? JSON.stringify(node.name.value) : `'${node.name.name}'`}` : 'the test';
    const body = this.parseBlock(label, () => {
      const key = this.parseMemberKey('a test member (given, expect or a setting)');
      if (!key) return;
      let member: TestMember;
      if (key.name === 'given') givens.push((member = this.parseGiven(key)));
      else if (key.name === 'expect') expects.push((member = this.parseExpect(key)));
      else properties.push((member = this.parseProperty(key)));
      members.push(member);
    });
    node.givens = givens;
    node.expects = expects;
    node.properties = properties;
    node.members = members;
    if (body) node.body = body;
    node.span = { start: keyword.start, end: this.lastEnd };
    return node;
  }

  /**
   * `{ member* }`. Returns the body span (from `{` to `}`, or to the end of
   * the last member when the `}` is missing), or undefined when there is no `{`.
   */
  private parseBlock(label: string, parseMember: () => void): Span | undefined {
    let token = this.index;
    if (this.kindOf(token) !== T.lbrace) {
      // Tolerate `{` on the next line; otherwise look for it further on this line.
      let ahead = 0;
      while (this.kind(ahead) === T.newline) ahead++;
      if (ahead > 0 && this.kind(ahead) === T.lbrace) {
        while (this.kind() === T.newline) this.advance();
      } else if (this.lineHasBrace()) {
        this.expected(`'{' to open the block of ${label}`);
        const from = this.index;
        while (this.kind() !== T.lbrace) this.advance();
        this.noteSkipped(from);
      } else {
        this.expected(`'{' to open the block of ${label}`);
        this.skipRestOfLine();
        return undefined;
      }
      token = this.index;
    }
    const open = this.advance();
    const openLine = this.line;
    // Whether the line of the `{` had a problem when the parser left it (`step a {{`): an unclosed block is then part of it.
    let openLineReported = false;
    for (;;) {
      token = this.index;
      if (this.kindOf(token) === T.newline) {
        if (this.line === openLine) openLineReported = this.reportedLine === openLine;
        this.advance();
        continue;
      }
      if (this.kindOf(token) === T.rbrace) {
        this.advance();
        return { start: this.startOf(open), end: this.endOf(token) };
      }
      if (this.kindOf(token) === T.eof || this.isDeclarationStart()) {
        if (!openLineReported && this.reportedLine !== openLine) {
          this.report(
            SyntaxCodes.unclosedBlock,
            `Unclosed block: the '{' of ${label} has no matching '}' before ${this.kindOf(token) === T.eof ? 'the end of the file' : `the next declaration ('${this.textOf(token)}')`}.`,
            { start: this.startOf(open), end: this.endOf(open) },
          );
        }
        return { start: this.startOf(open), end: this.lastEnd };
      }
      const before = this.index;
      parseMember();
      this.endStatement();
      // Guarantee progress whatever a member parser did.
      if (this.index === before) this.advance();
    }
  }

  private lineHasBrace(): boolean {
    return this.kindOf(this.nextStop(this.index)) === T.lbrace;
  }

  /** The key word that starts a block member; reports and skips the line when there is none. */
  private parseMemberKey(what: string): Identifier | undefined {
    if (this.kind() === T.identifier) return this.identifier();
    this.expected(what);
    // A `{` that ends its line (`step a {{`) is a doubled brace: skipping a block from it would take the block's own `}`.
    if (this.kind() === T.lbrace && this.kind(1) === T.newline) this.advance();
    else this.skipRestOfLine();
    return undefined;
  }

  // -------------------------------------------------------------------------
  // Block members
  // -------------------------------------------------------------------------

  private parseProperty(key: Identifier): PropertyNode {
    const values: Value[] = [];
    while (!this.atStatementEnd()) {
      // After a problem on this line (`path "a.gguf""`: a second string left open), the rest is not read: its values would be checked for nothing.
      if (this.reportedLine === this.line || (values.length > 0 && this.lexerFound(this.index))) {
        this.skipRestOfLine();
        break;
      }
      const value = this.parseValue();
      if (value) {
        values.push(value);
        continue;
      }
      if (this.kind() === T.error) {
        this.advance();
        continue;
      }
      this.expected(`a value for '${key.name}'`);
      this.skipRestOfLine();
      break;
    }
    return { kind: 'property', key, values, span: { start: key.span.start, end: this.lastEnd } };
  }

  private parseInstruction(key: Identifier): InstructionNode {
    // Nodes are built in one literal per shape: no property added after creation.
    if (this.kind() === T.string) {
      const text = this.stringValue();
      return { kind: 'instruction', keyword: key.span, text, span: { start: key.span.start, end: this.lastEnd } };
    }
    this.expected("the instruction text (a string or a \"\"\" text block) after 'instruction'");
    return { kind: 'instruction', keyword: key.span, span: { start: key.span.start, end: this.lastEnd } };
  }

  private parseFrom(key: Identifier): FromNode {
    const refs: Identifier[] = [];
    if (this.kind() !== T.identifier) {
      this.expected("an input name or an earlier step id after 'from'");
    } else {
      refs.push(this.identifier());
      while (this.kind() === T.comma) {
        this.advance();
        if (this.kind() !== T.identifier) {
          this.expected("an input name or an earlier step id after ','");
          break;
        }
        refs.push(this.identifier());
      }
    }
    return { kind: 'from', keyword: key.span, refs, span: { start: key.span.start, end: this.lastEnd } };
  }

  private parseOutput(key: Identifier): OutputNode {
    const contract = this.parseContract();
    const span = { start: key.span.start, end: this.lastEnd };
    return contract ? { kind: 'output', keyword: key.span, contract, span } : { kind: 'output', keyword: key.span, span };
  }

  private parseGiven(key: Identifier): GivenNode {
    const node: Mutable<GivenNode> = { kind: 'given', keyword: key.span, span: key.span };
    if (this.kind() !== T.identifier) {
      this.expected("the name of a chain input after 'given'");
    } else {
      const name = this.identifier();
      node.name = name;
      if (this.kind() === T.equals) {
        this.advance();
        const value = this.parseValue();
        if (value) node.value = value;
        else this.expected(`a value for '${name.name}' after '='`);
      } else {
        this.expected(`'=' after '${name.name}' (as in \`given ${name.name} = "..."\`)`);
      }
    }
    node.span = { start: key.span.start, end: this.lastEnd };
    return node;
  }

  private parseExpect(key: Identifier): ExpectNode {
    const node: Mutable<ExpectNode> = { kind: 'expect', keyword: key.span, options: [], span: key.span };
    const done = (): ExpectNode => {
      node.span = { start: key.span.start, end: this.lastEnd };
      return node;
    };
    if (this.kind() !== T.identifier) {
      this.expected("a step id or 'output' after 'expect'");
      return done();
    }
    node.target = this.identifier();
    if (this.isIdentifier(this.index, 'not') && this.kind(1) === T.identifier) {
      const not = this.advance();
      node.negated = { start: this.startOf(not), end: this.endOf(not) };
    }
    if (this.kind() !== T.identifier) {
      this.expected(`a matcher (${MATCHER_LIST})`);
      return done();
    }
    const matcherName = this.identifier();
    node.matcherName = matcherName;
    if (MATCHER_SET.has(matcherName.name)) node.matcher = matcherName.name as MatcherKind;
    if (this.kind() === T.gte || this.atComparisonTypo() || (node.matcher === 'rouge_l' && this.kind() === T.equals)) {
      // `>`, `=>`, `≥` (COI101) and `=` (COI105) are reported once and read as the `>=` they stand for, so the rest of the line is read as meant.
      if (this.kind() === T.equals) this.expected(COMPARISON_EXPECTED);
      const comparison = this.advance();
      node.comparison = { start: this.startOf(comparison), end: this.endOf(comparison) };
      if (this.kind() === T.number) node.threshold = this.numberValue();
      else this.expectedValue(node, "a number after '>='");
    } else if (node.matcher === 'rouge_l' && this.kind() === T.number) {
      // `rouge_l 0.4 "ref"`: the threshold without its `>=`, reported once and read as meant.
      this.expected(COMPARISON_EXPECTED);
      node.threshold = this.numberValue();
    }
    if (!this.atOption()) {
      const value = this.parseValue();
      if (value) node.value = value;
      else if (!this.atStatementEnd()) node.unread ??= this.currentSpan();
    }
    node.options = this.parseOptions();
    return done();
  }

  /** Reports that `what` was expected in an expectation, and notes where it was not read (ExpectNode.unread). */
  private expectedValue(node: Mutable<ExpectNode>, what: string): void {
    this.expected(what);
    if (!this.atStatementEnd()) node.unread = this.currentSpan();
  }

  private currentSpan(): Span {
    return { start: this.startOf(this.index), end: this.endOf(this.index) };
  }

  // -------------------------------------------------------------------------
  // Contracts, options and values
  // -------------------------------------------------------------------------

  private parseContract(): ContractNode | undefined {
    if (this.kind() !== T.identifier) {
      this.expected(`a contract (${CONTRACT_LIST})`);
      return undefined;
    }
    const kindName = this.identifier();
    const contractKind = CONTRACT_KIND_SET.has(kindName.name) ? (kindName.name as ContractKind) : undefined;
    const labels = this.kind() === T.lbracket ? this.parseList() : undefined;
    const options = this.parseOptions();
    const span = { start: kindName.span.start, end: this.lastEnd };
    if (contractKind !== undefined) {
      return labels ? { kind: 'contract', kindName, contractKind, labels, options, span } : { kind: 'contract', kindName, contractKind, options, span };
    }
    return labels ? { kind: 'contract', kindName, labels, options, span } : { kind: 'contract', kindName, options, span };
  }

  /** A `>`, `=>` or `≥` written where `>=` was meant: the lexer keeps '>' as its text for this. */
  private atComparisonTypo(): boolean {
    return this.kind() === T.error && this.textOf(this.index) === '>';
  }

  private atOption(): boolean {
    return this.kind() === T.identifier && this.kind(1) === T.equals;
  }

  /** `key=value` options up to the end of the line. */
  private parseOptions(): OptionNode[] {
    const options: OptionNode[] = [];
    while (!this.atStatementEnd()) {
      if (this.atOption()) {
        const key = this.identifier();
        this.advance(); // '='
        // `lang= max_words=3`: the next option is not this one's value.
        const value = this.atOption() ? undefined : this.parseValue();
        if (!value) this.expected(`a value after '${key.name}='`);
        const span = { start: key.span.start, end: this.lastEnd };
        options.push(value ? { kind: 'option', key, value, span } : { kind: 'option', key, span });
        continue;
      }
      if (this.kind() === T.error) {
        this.advance();
        continue;
      }
      this.expected('an option (key=value) or the end of the line');
      this.skipRestOfLine();
      break;
    }
    return options;
  }

  private parseValue(): Value | undefined {
    const token = this.index;
    switch (this.kindOf(token)) {
      case T.string:
        return this.stringValue();
      case T.number:
        return this.numberValue();
      case T.identifier: {
        this.advance();
        const span = { start: this.startOf(token), end: this.endOf(token) };
        if (this.textOf(token) === 'true' || this.textOf(token) === 'false') {
          const node: BooleanValue = { kind: 'boolean', value: this.textOf(token) === 'true', span };
          return node;
        }
        const node: WordValue = { kind: 'word', value: this.textOf(token), span };
        return node;
      }
      case T.lbracket:
        return this.parseList();
      default:
        return undefined;
    }
  }

  /**
   * `[a, "b", 3]`, newlines allowed between items. An unclosed list ends where items stop. A list
   * nested too deeply is reported and left out of the tree with the lists around it (undefined),
   * as an unreadable number is: nothing checks a value that was not read.
   */
  private parseList(): ListValue | undefined {
    if (this.listDepth >= MAX_LIST_DEPTH) {
      const open = this.advance();
      const span = { start: this.startOf(open), end: this.endOf(open) };
      this.reportOnce(this.line, SyntaxCodes.listTooDeep, `List nested too deeply: lists may nest at most ${MAX_LIST_DEPTH} levels.`, span);
      this.skipRestOfLine();
      this.listAbandoned = true;
      return undefined;
    }
    this.listDepth++;
    try {
      const list = this.parseListItems();
      return this.listAbandoned ? undefined : list;
    } finally {
      this.listDepth--;
      if (this.listDepth === 0) this.listAbandoned = false;
    }
  }

  private parseListItems(): ListValue {
    const open = this.advance();
    const openLine = this.line;
    const items: Value[] = [];
    const unclosed = (): ListValue => {
      // Not on a line that has a problem already: an unterminated string swallowed the `]`, an item was not read.
      this.reportOnce(openLine, SyntaxCodes.unclosedList, `Unclosed list: expected ']' to close the '[' here, found ${this.describe(this.index)}.`, { start: this.startOf(open), end: this.endOf(open) });
      return { kind: 'list', items, span: { start: this.startOf(open), end: this.lastEnd } };
    };
    let expectItem = true;
    for (;;) {
      const beforeNewlines = this.index;
      const lineBefore = this.line;
      while (this.kind() === T.newline) this.advance();
      const crossedLine = this.index !== beforeNewlines;
      const token = this.index;
      if (this.kindOf(token) === T.rbracket) {
        this.advance();
        return { kind: 'list', items, span: { start: this.startOf(open), end: this.endOf(token) } };
      }
      if (this.kindOf(token) === T.comma) {
        if (expectItem) this.expected('a list item');
        this.advance();
        expectItem = true;
        continue;
      }
      if (this.kindOf(token) === T.error) {
        this.advance();
        continue;
      }
      const isValueStart = this.kindOf(token) === T.string || this.kindOf(token) === T.number || this.kindOf(token) === T.identifier || this.kindOf(token) === T.lbracket;
      if (!isValueStart || (crossedLine && !expectItem)) {
        // The newlines belong to the statements after the list: they are read again.
        this.index = beforeNewlines;
        this.line = lineBefore;
        return unclosed();
      }
      if (!expectItem) this.expected("',' or ']' after a list item");
      const item = this.parseValue();
      if (item) items.push(item);
      expectItem = false;
      if (this.listAbandoned) return { kind: 'list', items, span: { start: this.startOf(open), end: this.lastEnd } };
    }
  }

  private identifier(): Identifier {
    const token = this.advance();
    return { kind: 'identifier', name: this.textOf(token), span: { start: this.startOf(token), end: this.endOf(token) } };
  }

  private stringValue(): StringValue {
    const token = this.advance();
    return { kind: 'string', value: this.textOf(token), style: this.buf.style(token), span: { start: this.startOf(token), end: this.endOf(token) } };
  }

  private numberValue(): NumberValue {
    const token = this.advance();
    return { kind: 'number', value: Number(this.textOf(token)), raw: this.textOf(token), span: { start: this.startOf(token), end: this.endOf(token) } };
  }
}
