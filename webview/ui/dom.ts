/**
 * Building DOM without HTML strings: every text goes in through `textContent` (or a text
 * node), so model outputs, prompts, file names and log lines can never become markup.
 */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined>;

/** `h('button', {class: 'x', 'aria-label': 'Open'}, 'Open')`; `on*` handlers via `listen`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes?: Attributes, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attributes?: Attributes, ...children: Child[]): HTMLElement;
export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function listen<E extends HTMLElement>(element: E, type: string, handler: (event: Event) => void): E {
  element.addEventListener(type, handler);
  return element;
}

export function clear(element: Element): void {
  element.replaceChildren();
}

/** A text block that keeps line breaks (CSS `white-space: pre-wrap`), filled with textContent. */
export function textBlock(text: string, label: string): HTMLElement {
  const block = h('pre', { class: 'text-block', 'aria-label': label, tabindex: 0 });
  block.textContent = text;
  return block;
}

/** A `vscode-button` (from @vscode-elements) with an accessible name. */
export function button(label: string, onClick: () => void, options: { secondary?: boolean; ariaLabel?: string; disabled?: boolean } = {}): HTMLElement {
  const element = h('vscode-button', { 'aria-label': options.ariaLabel ?? label, secondary: options.secondary === true, disabled: options.disabled === true }, label);
  element.addEventListener('click', () => {
    if (!element.hasAttribute('disabled')) onClick();
  });
  return element;
}

/** A native select (keyboard-friendly, themed by CSS variables) with an accessible name. */
export function select(label: string, options: readonly { value: string; text: string }[], value: string, onChange: (value: string) => void): HTMLSelectElement {
  const element = h('select', { 'aria-label': label, class: 'select' });
  for (const option of options) {
    const node = h('option', { value: option.value }, option.text);
    if (option.value === value) node.selected = true;
    element.appendChild(node);
  }
  element.addEventListener('change', () => onChange(element.value));
  return element;
}

export function message(text: string, kind: 'muted' | 'error' = 'muted'): HTMLElement {
  return h('p', { class: kind, role: kind === 'error' ? 'alert' : undefined }, text);
}

/**
 * Replaces the children of `container`, then gives the focus back to the control with the
 * same accessible name (the pager's Next button, the filter field with its caret at the
 * end), so keyboard users stay where they were when a view redraws.
 */
export function replaceKeepingFocus(container: HTMLElement, ...children: Node[]): void {
  const label = focusedLabelIn(container);
  container.replaceChildren(...children);
  refocus(container, label);
}

/** What each child put in place by `patchChildren` was when it was built (before a user, a chart or a component changed it). */
const built = new WeakMap<Node, Node>();

/**
 * Gives `container` the children `children` like `replaceKeepingFocus`, but leaves in place
 * each child that was built exactly like a new one (same tags, attributes and texts,
 * compared with what was built, not with what the user or a component has done to it
 * since). The children are matched in order: a new child is put before the old ones it does
 * not match, and old children passed over are removed, so a row added at the top or removed
 * from the middle of a list leaves the other rows where they are. A live view redrawn twice
 * a second thus keeps its controls as long as they do not change: an open dropdown stays
 * open, the focus, the chosen option and a click in progress stay. A kept control keeps its
 * old event handlers, so they must read the state they act on when they run, not the state
 * the control was built with. Returns the children now in place (kept or new), in order: an
 * empty shell built the same each time (a table body, a toolbar) is kept, and its own
 * children can then be patched in turn.
 */
export function patchChildren(container: HTMLElement, ...children: Node[]): Node[] {
  const label = focusedLabelIn(container);
  const there = [...container.childNodes];
  let next = 0;
  const placed = children.map((child) => {
    const match = there.findIndex((old, index) => index >= next && built.get(old)?.isEqualNode(child) === true);
    if (match >= 0) {
      for (const passed of there.slice(next, match)) passed.remove();
      next = match + 1;
      return there[match] as Node;
    }
    built.set(child, child.cloneNode(true));
    container.insertBefore(child, there[next] ?? null);
    return child;
  });
  for (const extra of there.slice(next)) extra.remove();
  if (label !== null && !container.contains(document.activeElement)) refocus(container, label);
  return placed;
}

function focusedLabelIn(container: HTMLElement): string | null {
  const active = document.activeElement;
  return active instanceof HTMLElement && container.contains(active) ? active.getAttribute('aria-label') : null;
}

function refocus(container: HTMLElement, label: string | null): void {
  if (label === null) return;
  const again = container.querySelector<HTMLElement>(`[aria-label="${CSS.escape(label)}"]`);
  if (again === null) return;
  if (again instanceof HTMLInputElement) {
    again.focus();
    again.setSelectionRange(again.value.length, again.value.length);
    return;
  }
  // A Lit component (vscode-button) becomes focusable once it has rendered.
  const rendered = (again as { updateComplete?: Promise<unknown> }).updateComplete;
  if (rendered === undefined) again.focus();
  else void rendered.then(() => again.focus());
}
