/**
 * The `.coi` lexer: a hand-written scanner over UTF-16 code units.
 *
 * It never throws, on any string (NUL, lone surrogates, U+FFFD, `\r\n` / `\r`
 * line breaks): what it cannot read becomes an `error` token plus a diagnostic (which the
 * parser, reading one problem a line, reports itself: LexOptions).
 * Comments are collected apart from the token stream. Newlines are tokens; the
 * parser ignores them inside `[...]` lists (so a missing `]` cannot swallow the
 * rest of the file), and a text block is one token whatever lines it spans.
 *
 * The lexical rules are documented in docs/format.md ("Lexical structure").
 */
import type { Comment, Diagnostic } from './ast';
import { DiagnosticCap, type DiagnosticSink } from './diagnosticCap';

export type TokenKind =
  | 'identifier'
  | 'number'
  | 'string'
  | '['
  | ']'
  | ','
  | '{'
  | '}'
  | ':'
  | '='
  | '>='
  | 'newline'
  | 'error'
  | 'eof';

export type StringStyle = 'double' | 'single' | 'block';

export interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  /**
   * identifier: its name; string: the decoded value; number: the raw text;
   * every other kind: ''.
   */
  readonly text: string;
  /** Strings only. */
  readonly style?: StringStyle;
  /** Numbers only: the numeric value. */
  readonly value?: number;
  /** Strings only: false when the closing quote is missing (already reported). */
  readonly terminated?: boolean;
  /** The token is the first one on its line and starts at column 0. */
  readonly column0: boolean;
}

/** Numeric token kinds, as stored in a `TokenBuffer`. */
export const T = {
  identifier: 0,
  number: 1,
  string: 2,
  lbracket: 3,
  rbracket: 4,
  comma: 5,
  lbrace: 6,
  rbrace: 7,
  colon: 8,
  equals: 9,
  gte: 10,
  newline: 11,
  error: 12,
  eof: 13,
} as const;

export const TOKEN_KIND_NAMES: readonly TokenKind[] = ['identifier', 'number', 'string', '[', ']', ',', '{', '}', ':', '=', '>=', 'newline', 'error', 'eof'];

const STYLES: readonly StringStyle[] = ['double', 'single', 'block'];
const FLAG_COLUMN0 = 1;
const FLAG_TERMINATED = 2;
const STYLE_SHIFT = 2;
const STYLE_MASK = 3;
/** A string with an invalid escape (COI104, reported by the lexer: the string is read as written). */
const FLAG_BAD_ESCAPE = 16;

/**
 * The token stream as parallel arrays (no object per token: a large file lexes
 * without pressure on the garbage collector). Token `i` has kind `kinds[i]`
 * (a value of `T`), offsets `starts[i]`..`ends[i]` and text `texts[i]`
 * (identifier name, decoded string value, raw number; '' otherwise).
 * The last token is always `eof`.
 */
export class TokenBuffer {
  count = 0;
  kinds: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  flags: Uint8Array;
  readonly texts: string[] = [];

  /**
   * `capacity`: room for the first tokens; `maxCount`: how many there can be at most (each
   * token but the last takes a character), so growing never reserves more than that.
   */
  constructor(
    capacity: number,
    private readonly maxCount = Number.MAX_SAFE_INTEGER,
  ) {
    this.kinds = new Uint8Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  push(kind: number, start: number, end: number, text: string, flags: number): void {
    const i = this.count;
    if (i === this.kinds.length) this.grow();
    this.kinds[i] = kind;
    this.starts[i] = start;
    this.ends[i] = end;
    this.flags[i] = flags;
    this.texts.push(text);
    this.count = i + 1;
  }

  private grow(): void {
    // Doubling, but never past the most tokens the text can have: a text with a token on
    // nearly every character (lines of `@`) could otherwise reserve twice the room it can use.
    const capacity = Math.min(this.kinds.length * 2 + 16, this.maxCount);
    const kinds = new Uint8Array(capacity);
    kinds.set(this.kinds);
    const starts = new Int32Array(capacity);
    starts.set(this.starts);
    const ends = new Int32Array(capacity);
    ends.set(this.ends);
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    this.kinds = kinds;
    this.starts = starts;
    this.ends = ends;
    this.flags = flags;
  }

  column0(i: number): boolean {
    return ((this.flags[i] ?? 0) & FLAG_COLUMN0) !== 0;
  }

  terminated(i: number): boolean {
    return ((this.flags[i] ?? 0) & FLAG_TERMINATED) !== 0;
  }

  style(i: number): StringStyle {
    return STYLES[((this.flags[i] ?? 0) >> STYLE_SHIFT) & STYLE_MASK] ?? 'double';
  }

  /** A string with an invalid escape, reported by the lexer (COI104). */
  badEscape(i: number): boolean {
    return ((this.flags[i] ?? 0) & FLAG_BAD_ESCAPE) !== 0;
  }

  /** Token `i` as an object (for tests and tools; the parser reads the arrays). */
  token(i: number): Token {
    const kind = TOKEN_KIND_NAMES[this.kinds[i] ?? T.eof] ?? 'eof';
    const start = this.starts[i] ?? 0;
    const end = this.ends[i] ?? 0;
    const text = this.texts[i] ?? '';
    const column0 = this.column0(i);
    if (kind === 'string') return { kind, start, end, text, style: this.style(i), terminated: this.terminated(i), column0 };
    if (kind === 'number') return { kind, start, end, text, value: Number(text), column0 };
    return { kind, start, end, text, column0 };
  }

  toArray(): Token[] {
    const out: Token[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.token(i));
    return out;
  }
}

export interface LexResult {
  readonly tokens: TokenBuffer;
  readonly comments: Comment[];
  readonly diagnostics: Diagnostic[];
}

/** Syntax diagnostic codes (documented in docs/format.md, "Diagnostics: syntax"). */
export const SyntaxCodes = {
  unexpectedCharacter: 'COI101',
  unterminatedString: 'COI102',
  unterminatedTextBlock: 'COI103',
  invalidEscape: 'COI104',
  expected: 'COI105',
  unclosedBlock: 'COI106',
  unknownDeclaration: 'COI107',
  invalidNumber: 'COI108',
  unmatchedBrace: 'COI109',
  unclosedList: 'COI110',
  listTooDeep: 'COI111',
} as const;

/** Words that start a top-level declaration. */
export const TOP_LEVEL_KEYWORDS: ReadonlySet<string> = new Set(['chain', 'description', 'model', 'input', 'step', 'test']);

const CH_TAB = 9;
const CH_LF = 10;
const CH_VT = 11;
const CH_FF = 12;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_DQUOTE = 34;
const CH_HASH = 35;
const CH_SQUOTE = 39;
const CH_COMMA = 44;
const CH_MINUS = 45;
const CH_DOT = 46;
const CH_PLUS = 43;
const CH_LOWER_E = 101;
const CH_0 = 48;
const CH_9 = 57;
const CH_COLON = 58;
const CH_EQUALS = 61;
const CH_GT = 62;
const CH_LBRACKET = 91;
const CH_BACKSLASH = 92;
const CH_RBRACKET = 93;
const CH_UNDERSCORE = 95;
const CH_LBRACE = 123;
const CH_RBRACE = 125;
const CH_BOM = 0xfeff;

function isDigit(ch: number): boolean {
  return ch >= CH_0 && ch <= CH_9;
}

export function isIdentifierStart(ch: number): boolean {
  return (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === CH_UNDERSCORE;
}

export function isIdentifierPart(ch: number): boolean {
  return isIdentifierStart(ch) || isDigit(ch) || ch === CH_MINUS;
}

/** True when `name` is a valid bare identifier (can be written without quotes). */
export function isIdentifier(name: string): boolean {
  if (name.length === 0 || !isIdentifierStart(name.charCodeAt(0))) return false;
  for (let i = 1; i < name.length; i++) if (!isIdentifierPart(name.charCodeAt(i))) return false;
  return true;
}

function isInlineSpace(ch: number): boolean {
  return ch === CH_SPACE || ch === CH_TAB || ch === CH_FF || ch === CH_VT;
}

function isLineBreak(ch: number): boolean {
  return ch === CH_LF || ch === CH_CR;
}

/** A character that may start some token (or whitespace / comment). */
function startsToken(ch: number): boolean {
  return (
    isIdentifierStart(ch) ||
    isDigit(ch) ||
    isInlineSpace(ch) ||
    isLineBreak(ch) ||
    ch === CH_DQUOTE ||
    ch === CH_SQUOTE ||
    ch === CH_HASH ||
    ch === CH_LBRACKET ||
    ch === CH_RBRACKET ||
    ch === CH_COMMA ||
    ch === CH_LBRACE ||
    ch === CH_RBRACE ||
    ch === CH_COLON ||
    ch === CH_EQUALS ||
    ch === CH_GT ||
    ch === CH_MINUS
  );
}

function hexValue(ch: number): number {
  if (ch >= CH_0 && ch <= CH_9) return ch - CH_0;
  if (ch >= 65 && ch <= 70) return ch - 55;
  if (ch >= 97 && ch <= 102) return ch - 87;
  return -1;
}

/** `ch` is a code point: a surrogate here is one without its partner (a pair arrives as its code point). */
function describeChar(ch: number): string {
  if (ch === 0) return 'NUL (U+0000)';
  if (ch >= 0xd800 && ch <= 0xdfff) return `a lone surrogate (U+${ch.toString(16).toUpperCase()})`;
  if (ch > 0xffff) return `'${String.fromCodePoint(ch)}' (U+${ch.toString(16).toUpperCase()})`;
  if (ch === 0xfffd) return 'U+FFFD (invalid UTF-8 in the file)';
  if (ch < 32 || ch === 127) return `control character U+${ch.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${String.fromCharCode(ch)}'`;
}

/** A number starts here: a digit, or `-` / `.` / `-.` before one (`.5` is read whole, to be reported as one invalid number). */
function startsNumber(text: string, pos: number): boolean {
  let at = pos;
  if (text.charCodeAt(at) === CH_MINUS) at++;
  if (text.charCodeAt(at) === CH_DOT) at++;
  return isDigit(text.charCodeAt(at));
}

const PLAIN_NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

/** What is wrong with a malformed number, and how to write it, naming the text as written. */
function invalidNumberMessage(raw: string): string {
  const head = `Invalid number '${raw}'`;
  if (/^-?\.[0-9]+$/.test(raw)) return `${head}: write ${raw.replace('.', '0.')} (a digit before the '.').`;
  if (/^-?[0-9]+\.$/.test(raw)) return `${head}: write digits after the '.' (like ${raw}5), or leave the '.' out.`;
  if (/^-?[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+$/.test(raw)) {
    const plain = String(Number(raw));
    return PLAIN_NUMBER.test(plain) ? `${head}: exponents are not supported; write ${plain}.` : `${head}: exponents are not supported; write the number as digits.`;
  }
  return `${head}: expected digits with an optional fraction, like 3, -1 or 0.75.`;
}

function error(code: string, message: string, start: number, end: number): Diagnostic {
  return { code, severity: 'error', message, span: { start, end } };
}

/** Scans `text` into tokens, comments and lexical diagnostics (the first ones: DiagnosticCap). Never throws. */
export function lex(text: string): LexResult {
  const cap = new DiagnosticCap();
  return { ...lexInto(text, cap), diagnostics: cap.kept() };
}

export interface LexOptions {
  /**
   * Leave the problems of whole tokens (text that starts no token, an invalid number, an
   * unterminated string or text block) to the reader, who gets each with `tokenProblem` when
   * it reads the token: the parser reports one problem a line, the first it meets. Invalid
   * escapes inside a string are still pushed here (the string is read, as written).
   */
  readonly tokenProblemsToReader?: boolean;
}

/** The same, with the diagnostics pushed into `diagnostics` (the parser's capped sink). */
export function lexInto(text: string, diagnostics: DiagnosticSink, options: LexOptions = {}): Omit<LexResult, 'diagnostics'> {
  return new Lexer(text, diagnostics, options.tokenProblemsToReader === true).run();
}

/**
 * The problem the lexer found with token `i` as a whole (undefined for a token it read):
 * COI101 or COI108 for an `error` token, COI102 or COI103 for an unterminated string.
 */
export function tokenProblem(text: string, tokens: TokenBuffer, i: number): Diagnostic | undefined {
  const kind = tokens.kinds[i];
  const start = tokens.starts[i] ?? 0;
  const end = tokens.ends[i] ?? 0;
  if (kind === T.error) {
    if (startsNumber(text, start)) return error(SyntaxCodes.invalidNumber, invalidNumberMessage(text.slice(start, end)), start, end);
    return error(SyntaxCodes.unexpectedCharacter, unexpectedMessage(text, start, end), start, end);
  }
  if (kind !== T.string || tokens.terminated(i)) return undefined;
  switch (tokens.style(i)) {
    case 'block':
      return error(SyntaxCodes.unterminatedTextBlock, 'Unterminated text block: expected a closing """.', start, start + 3);
    case 'single':
      return error(SyntaxCodes.unterminatedString, "Unterminated string: expected a closing \"'\" before the end of the line (a 'single' string cannot contain ' or span lines).", start, end);
    default:
      return error(SyntaxCodes.unterminatedString, 'Unterminated string: expected a closing \'"\' before the end of the line.', start, end);
  }
}

/** A comparison written for `>=` (`>`, `=>`, `≥`): the lexer keeps '>' as its text, and the parser reads it as the `>=` of a threshold. */
function comparisonTypo(written: string): boolean {
  return written === '>' || written === '=>' || written === '\u2265';
}

/** What is wrong with `text[start, end)`, a run of characters that start no token. */
function unexpectedMessage(text: string, start: number, end: number): string {
  const written = text.slice(start, end);
  if (comparisonTypo(written) && written !== '>') return `Unexpected '${written}': a threshold is written '>=' (as in \`rouge_l >= 0.4\`).`;
  const first = text.codePointAt(start) ?? 0;
  if (first === CH_GT) return "Unexpected '>': the only comparison is '>=' (as in `rouge_l >= 0.4`).";
  if (end - start === (first > 0xffff ? 2 : 1)) return `Unexpected character ${describeChar(first)}.`;
  return `Unexpected characters starting with ${describeChar(first)}: '${printable(text.slice(start, Math.min(end, start + 20)))}'.`;
}

class Lexer {
  private pos = 0;
  private lineStart = 0;
  /** How many invalid escapes were reported (a string that adds one is flagged: FLAG_BAD_ESCAPE). */
  private escapeProblems = 0;
  private readonly tokens: TokenBuffer;
  private readonly comments: Comment[] = [];

  constructor(
    private readonly text: string,
    private readonly diagnostics: DiagnosticSink,
    /** LexOptions.tokenProblemsToReader. */
    private readonly toReader: boolean,
  ) {
    this.tokens = new TokenBuffer(Math.min((text.length >> 2) + 16, text.length + 1), text.length + 1);
  }

  run(): Omit<LexResult, 'diagnostics'> {
    const text = this.text;
    const length = text.length;
    if (length > 0 && text.charCodeAt(0) === CH_BOM) this.pos = 1;
    while (this.pos < length) {
      const ch = text.charCodeAt(this.pos);
      if (isInlineSpace(ch)) {
        this.pos++;
      } else if (ch === CH_LF || ch === CH_CR) {
        this.newline(ch);
      } else if (ch === CH_HASH) {
        this.comment();
      } else if (isIdentifierStart(ch)) {
        this.identifier();
      } else if (startsNumber(text, this.pos)) {
        this.number();
      } else if (ch === CH_DQUOTE) {
        if (text.charCodeAt(this.pos + 1) === CH_DQUOTE && text.charCodeAt(this.pos + 2) === CH_DQUOTE) this.textBlock();
        else this.doubleString();
      } else if (ch === CH_SQUOTE) {
        this.singleString();
      } else {
        this.punctuation(ch);
      }
    }
    this.push(T.eof, length, length, '');
    return { tokens: this.tokens, comments: this.comments };
  }

  private push(kind: number, start: number, end: number, text: string): void {
    this.tokens.push(kind, start, end, text, start === this.lineStart ? FLAG_COLUMN0 : 0);
  }

  /** Reports the problem of the token just pushed, unless its reader reports it (LexOptions). */
  private reportLastToken(): void {
    if (this.toReader) return;
    const problem = tokenProblem(this.text, this.tokens, this.tokens.count - 1);
    if (problem) this.diagnostics.push(problem);
  }

  private newline(ch: number): void {
    const start = this.pos;
    this.pos += ch === CH_CR && this.text.charCodeAt(this.pos + 1) === CH_LF ? 2 : 1;
    this.push(T.newline, start, this.pos, '');
    this.lineStart = this.pos;
  }

  private comment(): void {
    const text = this.text;
    const start = this.pos;
    let end = start + 1;
    while (end < text.length && !isLineBreak(text.charCodeAt(end))) end++;
    this.comments.push({ text: text.slice(start, end), span: { start, end } });
    this.pos = end;
  }

  private identifier(): void {
    const text = this.text;
    const start = this.pos;
    let end = start + 1;
    while (end < text.length && isIdentifierPart(text.charCodeAt(end))) end++;
    this.pos = end;
    this.push(T.identifier, start, end, text.slice(start, end));
  }

  private number(): void {
    const text = this.text;
    const start = this.pos;
    let end = start;
    if (text.charCodeAt(end) === CH_MINUS) end++;
    const digitsFrom = end;
    while (isDigit(text.charCodeAt(end))) end++;
    // `.5`: a fraction without its leading digit.
    let valid = end > digitsFrom;
    if (text.charCodeAt(end) === CH_DOT) {
      end++;
      if (!isDigit(text.charCodeAt(end))) valid = false;
      while (isDigit(text.charCodeAt(end))) end++;
    }
    // `12abc`, `1.2.3`, `3-4`: one malformed number rather than several tokens.
    while (end < text.length) {
      const ch = text.charCodeAt(end);
      // `1e+3`: the `+` of an exponent belongs to it.
      const exponentSign = ch === CH_PLUS && (text.charCodeAt(end - 1) | 0x20) === CH_LOWER_E;
      if (!isIdentifierPart(ch) && ch !== CH_DOT && !exponentSign) break;
      valid = false;
      end++;
    }
    this.pos = end;
    if (!valid) {
      this.push(T.error, start, end, '');
      this.reportLastToken();
      return;
    }
    this.push(T.number, start, end, text.slice(start, end));
  }

  private pushString(start: number, end: number, value: string, style: StringStyle, terminated: boolean, column0: boolean, badEscape = false): void {
    const flags = (column0 ? FLAG_COLUMN0 : 0) | (terminated ? FLAG_TERMINATED : 0) | (STYLES.indexOf(style) << STYLE_SHIFT) | (badEscape ? FLAG_BAD_ESCAPE : 0);
    this.tokens.push(T.string, start, end, value, flags);
    if (!terminated) this.reportLastToken();
  }

  private doubleString(): void {
    const text = this.text;
    const start = this.pos;
    let pos = start + 1;
    let chunkStart = pos;
    let parts: string[] | undefined;
    let terminated = false;
    const escapeProblems = this.escapeProblems;
    while (pos < text.length) {
      const ch = text.charCodeAt(pos);
      if (ch === CH_DQUOTE) {
        terminated = true;
        break;
      }
      if (isLineBreak(ch)) break;
      if (ch !== CH_BACKSLASH) {
        pos++;
        continue;
      }
      parts ??= [];
      parts.push(text.slice(chunkStart, pos));
      pos = this.escape(pos, parts);
      chunkStart = pos;
    }
    const body = text.slice(chunkStart, pos);
    const value = parts ? (parts.push(body), parts.join('')) : body;
    const end = terminated ? pos + 1 : pos;
    this.pos = end;
    this.pushString(start, end, value, 'double', terminated, start === this.lineStart, this.escapeProblems > escapeProblems);
  }

  private escapeProblem(problem: Diagnostic): void {
    this.escapeProblems++;
    this.diagnostics.push(problem);
  }

  /** Decodes the escape at `pos` (a backslash) into `parts`; returns the position after it. */
  private escape(pos: number, parts: string[]): number {
    const text = this.text;
    const next = text.charCodeAt(pos + 1);
    switch (next) {
      case CH_DQUOTE:
        parts.push('"');
        return pos + 2;
      case CH_BACKSLASH:
        parts.push('\\');
        return pos + 2;
      case 47 /* / */:
        parts.push('/');
        return pos + 2;
      case 98 /* b */:
        parts.push('\b');
        return pos + 2;
      case 102 /* f */:
        parts.push('\f');
        return pos + 2;
      case 110 /* n */:
        parts.push('\n');
        return pos + 2;
      case 114 /* r */:
        parts.push('\r');
        return pos + 2;
      case 116 /* t */:
        parts.push('\t');
        return pos + 2;
      case 117 /* u */: {
        let code = 0;
        for (let i = 2; i < 6; i++) {
          const digit = hexValue(text.charCodeAt(pos + i));
          if (digit < 0) {
            const end = Math.min(pos + i, text.length);
            this.escapeProblem(error(SyntaxCodes.invalidEscape, `Invalid escape '${text.slice(pos, end)}': \\u needs exactly four hexadecimal digits.`, pos, end));
            parts.push(text.slice(pos, end));
            return end;
          }
          code = code * 16 + digit;
        }
        parts.push(String.fromCharCode(code));
        return pos + 6;
      }
      default: {
        if (Number.isNaN(next) || isLineBreak(next)) {
          this.escapeProblem(error(SyntaxCodes.invalidEscape, 'Invalid escape: a backslash at the end of the line (use \\\\ for a backslash, or a text block for several lines).', pos, pos + 1));
          parts.push('\\');
          return pos + 1;
        }
        const width = next >= 0xd800 && next <= 0xdbff && pos + 2 < text.length ? 3 : 2;
        const written = text.slice(pos, pos + width);
        this.escapeProblem(
          error(
            SyntaxCodes.invalidEscape,
            `Invalid escape '${written}' in a "double" string: use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX, or a 'single' raw string for backslashes (e.g. regular expressions).`,
            pos,
            pos + width,
          ),
        );
        parts.push(written);
        return pos + width;
      }
    }
  }

  private singleString(): void {
    const text = this.text;
    const start = this.pos;
    let pos = start + 1;
    while (pos < text.length) {
      const ch = text.charCodeAt(pos);
      if (ch === CH_SQUOTE || isLineBreak(ch)) break;
      pos++;
    }
    const terminated = text.charCodeAt(pos) === CH_SQUOTE;
    const end = terminated ? pos + 1 : pos;
    this.pos = end;
    this.pushString(start, end, text.slice(start + 1, pos), 'single', terminated, start === this.lineStart);
  }

  private textBlock(): void {
    const text = this.text;
    const start = this.pos;
    const column0 = start === this.lineStart;
    const contentStart = start + 3;
    let close = text.indexOf('"""', contentStart);
    let terminated = close >= 0;
    let contentEnd: number;
    let end: number;
    if (terminated) {
      contentEnd = close;
      end = close + 3;
    } else {
      // Keep the damage local: an unterminated block stops before the next line that
      // starts a top-level declaration at column 0 (or at the end of the file).
      contentEnd = findRecoveryPoint(text, contentStart);
      end = contentEnd;
      close = -1;
      terminated = false;
    }
    // Track line starts crossed by the block so `column0` stays right afterwards.
    for (let i = contentStart; i < end; i++) {
      const ch = text.charCodeAt(i);
      if (ch === CH_LF || (ch === CH_CR && text.charCodeAt(i + 1) !== CH_LF)) this.lineStart = i + 1;
    }
    this.pos = end;
    this.pushString(start, end, decodeTextBlock(text, contentStart, contentEnd), 'block', terminated, column0);
  }

  private punctuation(ch: number): void {
    const start = this.pos;
    let kind = -1;
    switch (ch) {
      case CH_LBRACKET:
        kind = T.lbracket;
        break;
      case CH_RBRACKET:
        kind = T.rbracket;
        break;
      case CH_COMMA:
        kind = T.comma;
        break;
      case CH_LBRACE:
        kind = T.lbrace;
        break;
      case CH_RBRACE:
        kind = T.rbrace;
        break;
      case CH_COLON:
        kind = T.colon;
        break;
      case CH_EQUALS:
        // `=>` for `>=`: one problem, read as the comparison it stands for.
        if (this.text.charCodeAt(start + 1) === CH_GT && this.text.charCodeAt(start + 2) !== CH_EQUALS) {
          this.pos += 2;
          this.push(T.error, start, start + 2, '>');
          this.reportLastToken();
          return;
        }
        kind = T.equals;
        break;
      case CH_GT:
        if (this.text.charCodeAt(start + 1) === CH_EQUALS) {
          this.pos += 2;
          this.push(T.gte, start, start + 2, '');
          return;
        }
        break;
    }
    if (kind >= 0) {
      this.pos++;
      this.push(kind, start, start + 1, '');
      return;
    }
    this.unexpected();
  }

  /** A run of characters that start no token: one error token, one diagnostic. */
  private unexpected(): void {
    const text = this.text;
    const start = this.pos;
    let end = start + 1;
    // `>` and `-` start tokens only when followed by `=` / a digit: they end the run only then.
    while (end < text.length) {
      const ch = text.charCodeAt(end);
      if (startsToken(ch) && ch !== CH_GT && ch !== CH_MINUS) break;
      end++;
    }
    this.pos = end;
    // A lone `>` or `≥` keeps '>' as its text: the parser reads it as the `>=` of a threshold (reported once).
    this.push(T.error, start, end, comparisonTypo(text.slice(start, end)) ? '>' : '');
    this.reportLastToken();
  }
}

function printable(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    const paired = ch >= 0xd800 && ch <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    if (paired) {
      out += s.slice(i, i + 2); // a character outside the BMP (an emoji): shown as itself
      i++;
    } else out += ch < 32 || (ch >= 0xd800 && ch <= 0xdfff) ? `\\u${ch.toString(16).padStart(4, '0')}` : s[i];
  }
  return out;
}

/**
 * Offset of the first line break (after `from`) followed by a line that starts
 * at column 0 with a top-level keyword and a space, or that is a lone `}`; or the end.
 */
function findRecoveryPoint(text: string, from: number): number {
  let pos = from;
  while (pos < text.length) {
    const ch = text.charCodeAt(pos);
    const lineBreak = pos;
    pos++;
    if (ch === CH_CR && text.charCodeAt(pos) === CH_LF) pos++;
    if (ch !== CH_LF && ch !== CH_CR) continue;
    if (text.charCodeAt(pos) === CH_RBRACE) {
      let end = pos + 1;
      while (isInlineSpace(text.charCodeAt(end))) end++;
      if (end >= text.length || isLineBreak(text.charCodeAt(end))) return lineBreak;
    }
    if (!isIdentifierStart(text.charCodeAt(pos))) continue;
    let end = pos;
    while (isIdentifierPart(text.charCodeAt(end))) end++;
    if (text.charCodeAt(end) === CH_SPACE && TOP_LEVEL_KEYWORDS.has(text.slice(pos, end))) return lineBreak;
  }
  return text.length;
}

/**
 * The value of a text block whose content is `text[start, end)`:
 * line breaks become `\n`; the first line is dropped when blank, the last line
 * is dropped when blank (only whitespace before the closing quotes), lines that
 * are only whitespace become empty, and the longest common leading whitespace
 * of the other lines is removed. A first line written right after the opening
 * quotes is kept as written and does not take part in the indentation.
 */
export function decodeTextBlock(text: string, start: number, end: number): string {
  const lines: string[] = [];
  let lineStart = start;
  for (let i = start; i < end; i++) {
    const ch = text.charCodeAt(i);
    if (ch === CH_LF || ch === CH_CR) {
      lines.push(text.slice(lineStart, i));
      if (ch === CH_CR && text.charCodeAt(i + 1) === CH_LF && i + 1 < end) i++;
      lineStart = i + 1;
    }
  }
  lines.push(text.slice(lineStart, end));
  return dedentLines(lines);
}

export function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (!isInlineSpace(line.charCodeAt(i))) return false;
  return true;
}

function leadingWhitespace(line: string): number {
  let i = 0;
  while (i < line.length && isInlineSpace(line.charCodeAt(i))) i++;
  return i;
}

/**
 * Length of the longest whitespace prefix shared by the non-blank lines in
 * [from, to) (the same characters, not just the same width: tabs and spaces differ).
 */
export function commonIndent(lines: readonly string[], from: number, to: number): number {
  let prefix: string | undefined;
  for (let i = from; i < to; i++) {
    const line = lines[i] ?? '';
    if (isBlank(line)) continue;
    const indent = leadingWhitespace(line);
    if (prefix === undefined) {
      prefix = line.slice(0, indent);
      continue;
    }
    let common = 0;
    const limit = Math.min(prefix.length, indent);
    while (common < limit && prefix.charCodeAt(common) === line.charCodeAt(common)) common++;
    if (common < prefix.length) prefix = prefix.slice(0, common);
    if (prefix.length === 0) break;
  }
  return prefix?.length ?? 0;
}

function dedentLines(lines: string[]): string {
  if (lines.length === 1) return lines[0] ?? '';
  let first = 0;
  let last = lines.length;
  const firstLine = lines[0] ?? '';
  const firstKept = !isBlank(firstLine);
  if (!firstKept) first = 1;
  if (isBlank(lines[last - 1] ?? '')) last--;
  if (last <= first) return '';
  // The kept first line does not count towards the common indentation.
  const cut = commonIndent(lines, firstKept ? 1 : first, last);
  const out: string[] = [];
  for (let i = first; i < last; i++) {
    const line = lines[i] ?? '';
    if (i === 0 && firstKept) out.push(line);
    else if (isBlank(line)) out.push('');
    else out.push(line.slice(cut));
  }
  return out.join('\n');
}
