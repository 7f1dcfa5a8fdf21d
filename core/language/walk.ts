/**
 * A generic walk over the syntax tree: every node is an object with a `span`. Used for
 * selection ranges (it also reaches comments, which core/syntax/visit.ts leaves out).
 */
import type { Span } from '../syntax/ast';

export interface SpannedNode {
  readonly span: Span;
  readonly kind?: string;
}

function isNode(value: unknown): value is SpannedNode {
  if (typeof value !== 'object' || value === null) return false;
  const span = (value as { span?: unknown }).span;
  return typeof span === 'object' && span !== null && typeof (span as Span).start === 'number';
}

/** The direct child nodes of a node (in any field, arrays included). */
export function childrenOf(node: object): SpannedNode[] {
  const out: SpannedNode[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'span') continue;
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) out.push(item);
    } else if (isNode(value)) out.push(value);
  }
  return out;
}

/** Nodes containing `offset`, outermost first (`root` included when it contains it). */
export function ancestorsAt(root: SpannedNode, offset: number): SpannedNode[] {
  const path: SpannedNode[] = [];
  let node: SpannedNode | undefined = root;
  while (node && node.span.start <= offset && offset <= node.span.end) {
    path.push(node);
    const inner: SpannedNode[] = childrenOf(node).filter((c) => c.span.start <= offset && offset <= c.span.end);
    // Prefer the child that strictly contains the offset, then the narrowest one.
    inner.sort((a, b) => strictness(b, offset) - strictness(a, offset) || a.span.end - a.span.start - (b.span.end - b.span.start));
    node = inner[0];
  }
  return path;
}

function strictness(node: SpannedNode, offset: number): number {
  return node.span.start <= offset && offset < node.span.end ? 1 : 0;
}
