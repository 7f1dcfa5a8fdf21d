/**
 * One diagnostic per line (docs/format.md, Recovery), across the parser and the checker. On a
 * line with a syntax error the parser reports the first problem met reading it from the left;
 * the checker, which checks what the parser made of that line, would often report the same
 * mistake again (`iven text = "x"`: an unknown property, and a value expected where the `=`
 * is). The same rule decides between them: the first problem met on the line is kept.
 *
 * For a checker diagnostic that starts on a line with a syntax error:
 * - an error about text read whole before the syntax error (its span ends there) is the line's
 *   one diagnostic, and the line's syntax errors are dropped: the parser stopped because of
 *   that mistake (`iven` is no test property, so `=` was no value for it; `one_of positive,
 *   neutral]` lacks the `[` that the checker's message shows);
 * - any other is dropped: it is about text the parser could not read, or what it made of it
 *   (`output label [[`: the inner list, left open, read as a label); or it is a warning, which
 *   never hides a syntax error (a file that cannot be read never checks clean); or it is about
 *   a declaration, reported on its header (before its `{`), whose syntax error is not caused
 *   by it: `step s` written without its block gets the missing `{`, not that its output is
 *   never used, and `test "t" { @` the `@`, not that the test gives no value for an input (it
 *   is reported once the line can be read).
 *
 * The syntax problems that are not their line's one report (every invalid escape, an
 * unterminated text block) are never dropped, replace nothing and mark no line; nor are the
 * warnings that an API key would go where it should not (ALWAYS_KEPT): a leak cannot wait.
 */
import type { CoiFile, Declaration, Diagnostic } from '../syntax/ast';
import { ALWAYS_KEPT, type DiagnosticSink, type SeverityCounts } from '../syntax/diagnosticCap';
import { isLineReport, type SyntaxErrorLines } from '../syntax/errorLines';

/** A sink for the checker's diagnostics that passes on only those the rule keeps. */
export class OnePerLine implements DiagnosticSink {
  /** For each line with a syntax error that a checker error comes before: the first such error. */
  private readonly firstErrors = new Map<number, Diagnostic>();

  constructor(
    private readonly file: CoiFile,
    private readonly lines: SyntaxErrorLines,
    private readonly out: DiagnosticSink,
  ) {}

  push(diagnostic: Diagnostic): void {
    const { start, end } = diagnostic.span;
    const line = this.lines.lineAt(start);
    // A warning that a profile would send an API key where it should not go is never hidden (ALWAYS_KEPT).
    if (line < 0 || ALWAYS_KEPT.has(diagnostic.code)) {
      this.out.push(diagnostic);
      return;
    }
    const readBefore = start < this.lines.firstProblem(line) && end <= this.lines.firstProblem(line);
    if (diagnostic.severity !== 'error' || !readBefore || this.inHeader(start)) return;
    const first = this.firstErrors.get(line);
    if (first === undefined || start < first.span.start) this.firstErrors.set(line, diagnostic);
  }

  /**
   * Passes on the checker errors that came first on their lines, once the checker is done.
   * Returns whether a syntax problem is replaced by one of them (it is then not reported).
   */
  finish(): (syntaxProblem: Diagnostic) => boolean {
    for (const diagnostic of this.firstErrors.values()) this.out.push(diagnostic);
    return (problem) => this.replaces(problem);
  }

  /**
   * A capped parse's `leftOut`, less the syntax errors on the replaced lines that it left out
   * (`kept` holds those it kept): they are not problems of the document any more.
   */
  leftOutAfter(leftOut: SeverityCounts, kept: readonly Diagnostic[]): SeverityCounts {
    if (leftOut.error === 0) return leftOut;
    let replaced = 0;
    for (const line of this.firstErrors.keys()) replaced += this.lines.problems(line);
    for (const problem of kept) if (this.replaces(problem)) replaced--;
    return { ...leftOut, error: leftOut.error - replaced };
  }

  /** Whether `offset` is in a declaration's header: from its keyword to its `{` (or its end, without one). */
  private inHeader(offset: number): boolean {
    const declarations = this.file.declarations;
    let low = 0;
    let high = declarations.length - 1;
    // The last declaration that starts at or before `offset` (declarations are in source order).
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((declarations[mid] as Declaration).span.start <= offset) low = mid;
      else high = mid - 1;
    }
    const declaration = declarations[low];
    if (declaration === undefined || declaration.span.start > offset) return false;
    const body = 'body' in declaration ? declaration.body : undefined;
    return offset < (body?.start ?? declaration.span.end);
  }

  private replaces(syntaxProblem: Diagnostic): boolean {
    return isLineReport(syntaxProblem) && this.firstErrors.has(this.lines.lineAt(syntaxProblem.span.start));
  }
}
