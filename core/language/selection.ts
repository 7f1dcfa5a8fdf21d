/** Selection ranges (expand/shrink selection): the nodes around the cursor, innermost first. */
import type { CoiFile, Span } from '../syntax/ast';
import { pathAt } from '../syntax/visit';

/** The syntax path at `offset`, outermost first, with the comment holding it (comments are not tree children). */
function spansAround(file: CoiFile, offset: number): Span[] {
  const spans = pathAt(file, offset).map((node) => node.span);
  const comment = file.comments.find((c) => c.span.start <= offset && offset <= c.span.end);
  if (comment) spans.push(comment.span);
  return spans;
}

export function selectionSpans(file: CoiFile, offset: number): Span[] {
  const out: Span[] = [];
  for (const span of spansAround(file, offset).reverse()) {
    const previous = out[out.length - 1];
    if (previous && previous.start === span.start && previous.end === span.end) continue;
    // Each range must contain the one before it.
    if (previous && (span.start > previous.start || span.end < previous.end)) continue;
    out.push(span);
  }
  const whole = file.span;
  const outer = out[out.length - 1];
  if (!outer || outer.start !== whole.start || outer.end !== whole.end) out.push(whole);
  return out;
}
