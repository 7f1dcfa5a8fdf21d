/**
 * The lines on which the parse reported a problem, so the checker can keep one diagnostic on
 * each (core/check/onePerLine.ts): a line the parser could not read is also one whose nodes
 * the checker may find wrong, for the same mistake.
 *
 * Every problem is recorded, capped parse or not (a line's problems left out of the capped
 * list are still counted), as three numbers per line with a problem: memory stays bounded by
 * the number of such lines, not by the problems' messages.
 */
import type { Diagnostic } from './ast';
import type { DiagnosticSink } from './diagnosticCap';
import { SyntaxCodes } from './lexer';

/**
 * Problems that are not the one report of their line (docs/format.md, Recovery): every
 * invalid escape is its own fix, and an unterminated text block swallows the lines after it.
 * They are never replaced and replace nothing.
 */
const OWN_REPORTS: ReadonlySet<string> = new Set([SyntaxCodes.invalidEscape, SyntaxCodes.unterminatedTextBlock]);

/** Whether `diagnostic` is a syntax problem that counts as its line's one report. */
export function isLineReport(diagnostic: Diagnostic): boolean {
  return !OWN_REPORTS.has(diagnostic.code);
}

/** The lines with a syntax problem, in source order. */
export class SyntaxErrorLines {
  /** Where each line starts, and where it ends (its line break, or the end of the text). */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** Where the first problem on each line starts, and how many it has. */
  private readonly firsts: number[] = [];
  private readonly counts: number[] = [];

  constructor(text: string, problemStarts: number[]) {
    problemStarts.sort((a, b) => a - b);
    for (const start of problemStarts) {
      const last = this.ends.length - 1;
      if (last >= 0 && start <= (this.ends[last] as number)) {
        this.counts[last] = (this.counts[last] as number) + 1;
        continue;
      }
      this.starts.push(lineStart(text, start));
      this.ends.push(lineEnd(text, start));
      this.firsts.push(start);
      this.counts.push(1);
    }
  }

  /** The index of the line with a problem where `offset` is; -1 when none. */
  lineAt(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if ((this.starts[mid] as number) > offset) high = mid - 1;
      else if ((this.ends[mid] as number) < offset) low = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Where the first syntax problem on line `line` starts. */
  firstProblem(line: number): number {
    return this.firsts[line] as number;
  }

  /** How many syntax problems line `line` has (kept by a capped parse or not). */
  problems(line: number): number {
    return this.counts[line] as number;
  }
}

/** Records where the line reports pushed through it start, and passes every problem on. */
export class SyntaxErrorLineRecorder implements DiagnosticSink {
  private readonly problemStarts: number[] = [];

  constructor(private readonly out: DiagnosticSink) {}

  push(diagnostic: Diagnostic): void {
    if (isLineReport(diagnostic)) this.problemStarts.push(diagnostic.span.start);
    this.out.push(diagnostic);
  }

  lines(text: string): SyntaxErrorLines {
    return new SyntaxErrorLines(text, this.problemStarts);
  }
}

function isLineBreak(code: number): boolean {
  return code === 10 /* \n */ || code === 13 /* \r */;
}

function lineStart(text: string, offset: number): number {
  let at = Math.min(offset, text.length);
  while (at > 0 && !isLineBreak(text.charCodeAt(at - 1))) at--;
  return at;
}

function lineEnd(text: string, offset: number): number {
  let at = offset;
  while (at < text.length && !isLineBreak(text.charCodeAt(at))) at++;
  return at;
}
