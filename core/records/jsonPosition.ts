/**
 * Locates the first syntax error of a JSON text. `JSON.parse` does not always say
 * where it failed (V8 sometimes prints only the offending token), and users need
 * a line and column to fix a hand-edited data file.
 */
import { visibleText } from './visible';

export interface JsonSyntaxError {
  readonly offset: number;
  /** 1-based line and column, for messages. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** Parses `text` as JSON, or describes the first syntax error with its position. */
export function parseJsonWithPosition(text: string): { ok: true; value: unknown } | { ok: false; error: JsonSyntaxError } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const offset = findJsonErrorOffset(text);
    const { line, column } = lineColumnAt(text, offset);
    // V8's own position (`… after JSON at position 46`, a 0-based offset) is left out: the line and column say it.
    // V8 quotes the bad text ('…, "T\u001b]0;X"... is not valid JSON', cut or not): left out, and
    // whatever remains has its control characters written visibly (the message reaches a terminal).
    const detail = err instanceof Error ? visibleText(err.message.replace(/ (?:in JSON )?at position \d+.*$/s, '').replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')) : 'invalid JSON';
    return { ok: false, error: { offset, line, column, message: `${detail} at line ${line}, column ${column}` } };
  }
}

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** A small JSON scanner that returns the offset of the first error (or the end). */
export function findJsonErrorOffset(text: string): number {
  let pos = 0;
  const fail = (): never => {
    throw new ScanError(pos);
  };
  const ws = (): void => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos] as string)) pos++;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[pos] !== ch) fail();
      pos++;
    }
  };
  const string = (): void => {
    if (text[pos] !== '"') fail();
    pos++;
    while (pos < text.length) {
      const ch = text.charCodeAt(pos);
      if (ch === 34) {
        pos++;
        return;
      }
      if (ch < 32) fail();
      if (ch === 92) {
        pos++;
        const esc = text[pos];
        if (esc === 'u') {
          for (let i = 1; i <= 4; i++) if (!/[0-9a-fA-F]/.test(text[pos + i] ?? '')) fail();
          pos += 5;
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) fail();
      }
      pos++;
    }
    fail();
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (match === null) fail();
    pos += (match as RegExpExecArray)[0].length;
  };
  const scalar = (): void => {
    const ch = text[pos];
    if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else number();
  };
  const key = (): void => {
    ws();
    string();
    ws();
    if (text[pos] !== ':') fail();
    pos++;
  };
  // The open arrays and objects are a stack of their closing brackets, not calls: a line of
  // 100,000 `[` (which JSON.parse reads) is located at its real error, not where a depth limit
  // or the call stack gave out.
  const closers: string[] = [];
  try {
    let expectValue = true;
    for (;;) {
      if (expectValue) {
        ws();
        const open = text[pos];
        const close = open === '[' ? ']' : open === '{' ? '}' : undefined;
        if (close === undefined) scalar();
        else {
          pos++;
          ws();
          if (text[pos] === close) pos++;
          else {
            closers.push(close);
            if (close === '}') key();
            continue;
          }
        }
      }
      expectValue = false;
      ws();
      const closer = closers[closers.length - 1];
      if (closer === undefined) break;
      if (text[pos] === ',') {
        pos++;
        if (closer === '}') key();
        expectValue = true;
      } else if (text[pos] === closer) {
        pos++;
        closers.pop();
      } else fail();
    }
    if (pos < text.length) fail();
    return text.length;
  } catch (err) {
    if (err instanceof ScanError) return err.offset;
    throw err;
  }
}

class ScanError {
  constructor(readonly offset: number) {}
}

/**
 * The 1-based line each top-level element of a JSON array starts on (the text is valid JSON); one
 * pass. The one locator of a record or row of a JSON array, for every reader (`coi eval --records`,
 * `coi import`, `coi dataset`), so each names the same line.
 */
export function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) line++;
    if (inString) {
      if (ch === 92) i++; // a backslash escapes the next character (never a line break in valid JSON)
      else if (ch === 34) inString = false;
      continue;
    }
    const isSpace = ch === 32 || ch === 9 || ch === 10 || ch === 13;
    if (expectElement && !isSpace && ch !== 93) {
      lines.push(line);
      expectElement = false;
    }
    if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) {
      depth++;
      if (depth === 1 && ch === 91) expectElement = true;
    } else if (ch === 93 || ch === 125) depth--;
    else if (ch === 44 && depth === 1) expectElement = true;
  }
  return lines;
}
