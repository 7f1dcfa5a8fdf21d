/** Selection ranges (expand/shrink selection): the nodes around the cursor, innermost first. */
import type { CoiFile, Span } from '../syntax/ast';
import { ancestorsAt } from './walk';

export function selectionSpans(file: CoiFile, offset: number): Span[] {
  const path = ancestorsAt(file, offset).map((n) => n.span);
  const out: Span[] = [];
  for (const span of path.reverse()) {
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
