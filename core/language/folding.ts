/** Folding ranges: blocks, multi-line text blocks and lists, comment runs, `# region` markers. */
import type { CoiFile, Span } from '../syntax/ast';
import { LineMap } from '../syntax/lineMap';
import { walk } from '../syntax/visit';

export interface FoldingRegion {
  readonly startLine: number;
  readonly endLine: number;
  readonly kind: 'region' | 'comment';
}

export function foldingRegions(file: CoiFile, text: string, lines = new LineMap(text)): FoldingRegion[] {
  const out: FoldingRegion[] = [];
  // A region keeps its closing line (`}`, `"""`, `]`) visible.
  const fold = (span: Span, keepLastLine: boolean, kind: FoldingRegion['kind'] = 'region'): void => {
    const startLine = lines.positionAt(span.start).line;
    const lastLine = lines.positionAt(Math.max(span.start, span.end - 1)).line;
    const endLine = keepLastLine ? lastLine - 1 : lastLine;
    if (endLine > startLine) out.push({ startLine, endLine, kind });
  };
  for (const decl of file.declarations) {
    if ((decl.kind === 'model' || decl.kind === 'step' || decl.kind === 'test') && decl.body) {
      fold({ start: decl.span.start, end: decl.body.end }, endsWithBrace(text, decl.body));
    }
    walk(decl, (node) => {
      if (node.kind === 'list' || (node.kind === 'string' && node.style === 'block')) fold(node.span, true);
    });
  }
  foldComments(file, text, lines, out);
  return out.sort((a, b) => a.startLine - b.startLine);
}

function endsWithBrace(text: string, body: Span): boolean {
  return text.charCodeAt(body.end - 1) === 125; /* } */
}

function foldComments(file: CoiFile, text: string, lines: LineMap, out: FoldingRegion[]): void {
  const regionStarts: number[] = [];
  let runStart = -1;
  let runEnd = -1;
  const flush = (): void => {
    if (runEnd > runStart && runStart >= 0) out.push({ startLine: runStart, endLine: runEnd, kind: 'comment' });
  };
  for (const comment of file.comments) {
    const line = lines.positionAt(comment.span.start).line;
    if (/^#\s*region\b/.test(comment.text)) regionStarts.push(line);
    else if (/^#\s*endregion\b/.test(comment.text)) {
      const start = regionStarts.pop();
      if (start !== undefined && line > start) out.push({ startLine: start, endLine: line, kind: 'region' });
    }
    const startsLine = text.slice(lines.offsetAt({ line, character: 0 }), comment.span.start).trim() === '';
    if (!startsLine) continue;
    if (line === runEnd + 1 && runStart >= 0) runEnd = line;
    else {
      flush();
      runStart = line;
      runEnd = line;
    }
  }
  flush();
}
