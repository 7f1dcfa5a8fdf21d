/**
 * `patchChildren` as webview/ui/dom.ts had it before it was made linear (each new child
 * compared with every old one after the last match, with `findIndex` and `isEqualNode`),
 * focus handling left out: the reference that the test of dom.ts and the panel benchmark
 * compare the new one with. Runs in the browser (bundled by domPage.ts).
 */
const builtBefore = new WeakMap<Node, Node>();

export function formerPatchChildren(container: HTMLElement, ...children: Node[]): Node[] {
  const there = Array.from(container.childNodes);
  let next = 0;
  const placed = children.map((child) => {
    const match = there.findIndex((old, index) => index >= next && builtBefore.get(old)?.isEqualNode(child) === true);
    if (match >= 0) {
      for (const passed of there.slice(next, match)) passed.remove();
      next = match + 1;
      return there[match] as Node;
    }
    builtBefore.set(child, child.cloneNode(true));
    container.insertBefore(child, there[next] ?? null);
    return child;
  });
  for (const extra of there.slice(next)) extra.remove();
  return placed;
}
