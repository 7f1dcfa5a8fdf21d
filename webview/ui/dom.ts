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
  const block = labelledBlock(label);
  block.textContent = text;
  return block;
}

/**
 * An empty text block named `label` (a step's output, run A's or B's side of a comparison).
 * A `pre` has no role that takes a name (it is generic: a screen reader in browse mode reads
 * its text without the label, so run A's and B's words could not be told apart); as a named
 * group, its name is read as the reader enters it and when it has the focus (it is a Tab stop
 * so that a long text can be scrolled by keyboard).
 */
export function labelledBlock(label: string, className = 'text-block'): HTMLElement {
  return h('pre', { class: className, role: 'group', 'aria-label': label, tabindex: 0 });
}

/**
 * A `vscode-button` (from @vscode-elements) with an accessible name (on a list's rows, one that says the row); `focusId` where that name can change (see `replaceKeepingFocus`).
 * `disabled`: a plain disabled button, out of the tab order, for a state the user sees beside it
 * (the pager on its first or last page).
 * `refusal`: why the button cannot be used here. The button then stays in the tab order (a
 * disabled vscode-button is not, and a keyboard or screen-reader user could never reach it to
 * learn why) and is marked `aria-disabled`: heard as unavailable, with the reason as its
 * accessible description (said after the name, which stays the button's own) and its tooltip,
 * drawn as a disabled button (panel.css), and a click, Enter or Space on it does nothing.
 */
export function button(label: string, onClick: () => void, options: { secondary?: boolean; ariaLabel?: string; disabled?: boolean; refusal?: string; focusId?: string } = {}): HTMLElement {
  const refused = options.refusal;
  const element = h('vscode-button', { 'aria-label': options.ariaLabel ?? label, 'data-focus-id': options.focusId, secondary: options.secondary === true, disabled: options.disabled === true, 'aria-disabled': refused === undefined ? undefined : 'true', title: refused, 'aria-description': refused }, label);
  element.addEventListener('click', (event) => {
    // Enter and Space reach here too: vscode-button turns them into a click.
    if (element.getAttribute('aria-disabled') === 'true') {
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (!element.hasAttribute('disabled')) onClick();
  });
  // Space on a focused vscode-button clicks it and, as it leaves the key's default alone, also
  // scrolled the panel; a native button does not scroll, nor does a refused one.
  element.addEventListener('keydown', (event) => {
    if (event.key === ' ') event.preventDefault();
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
 * Replaces the children of `container`, then gives the focus back to the same control (the
 * pager's Next button, the filter field with its caret at the end, a row's button), so
 * keyboard users stay where they were when a view redraws. A control is found again by its
 * `data-focus-id` when it has one, else by its accessible name: a control repeated on each row
 * of a list (a run's Open, an item's button on each model's row) has a name that says its row
 * (model/names.ts), and a focus id unique in the view as well, since that name can change as
 * the list does (a second run of the same chain and second gets the ids into both names).
 */
export function replaceKeepingFocus(container: HTMLElement, ...children: Node[]): void {
  const focused = focusKeyIn(container);
  container.replaceChildren(...children);
  refocus(container, focused);
}

/**
 * Replaces the children of `container` with another view, like `replaceKeepingFocus`, but if
 * the focus was in it, it goes to the control whose focus id is `focusId` (the run's Open
 * link a Back button returns to), or where `replaceKeepingFocus` would put it if that
 * control is not there.
 */
export function replaceFocusing(container: HTMLElement, focusId: string, ...children: Node[]): void {
  const focused = focusKeyIn(container);
  container.replaceChildren(...children);
  if (focused === null) return;
  const preferred: FocusKey = { attribute: 'data-focus-id', value: focusId };
  refocus(container, findControl(container, preferred) !== undefined ? preferred : focused);
}

/** Focuses the control of `container` whose focus id is `focusId`; false if there is none. */
export function focusById(container: HTMLElement, focusId: string): boolean {
  const control = findControl(container, { attribute: 'data-focus-id', value: focusId });
  if (control === undefined) return false;
  focusControl(usable(control) ? control : nearestUsable(control, container) ?? control);
  return true;
}

/**
 * What each child put in place by `patchChildren` was when it was built (before a user, a
 * chart or a component changed it): a copy, and its HTML.
 */
const built = new WeakMap<Node, { readonly node: Node; readonly html: string }>();

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
 *
 * Linear in the size of the children: each new child is looked up by its HTML among the old
 * ones not yet passed (the first one built with the same HTML, confirmed with `isEqualNode`),
 * not compared with each of them, so a table of 500 rows that all changed costs 500 look-ups,
 * not 250,000 comparisons. Built alike means with the attributes in the same order too, as
 * `h` sets them in the order they are written.
 */
export function patchChildren(container: HTMLElement, ...children: Node[]): Node[] {
  const focused = focusKeyIn(container);
  const there = [...container.childNodes];
  const passedIn = new Set(children);
  // HTML → the positions of the old children built with it, ascending, from the first not yet passed.
  const byHtml = new Map<string, { at: number[]; from: number }>();
  there.forEach((old, index) => {
    // A child passed in again itself (a live region whose text is updated in place) is matched by identity only.
    if (passedIn.has(old)) return;
    const html = built.get(old)?.html;
    if (html === undefined) return;
    const same = byHtml.get(html);
    if (same === undefined) byHtml.set(html, { at: [index], from: 0 });
    else same.at.push(index);
  });
  let next = 0;
  const placed = children.map((child) => {
    // The very node already there stays, whatever was done to it (a live region's text, set in place so that it is announced).
    const own = child.parentNode === container ? there.indexOf(child as ChildNode, next) : -1;
    if (own >= 0) {
      for (const passed of there.slice(next, own)) passed.remove();
      next = own + 1;
      return child;
    }
    const html = htmlOf(child);
    const match = takeMatch(byHtml.get(html), next, (index) => built.get(there[index] as Node)?.node.isEqualNode(child) === true);
    if (match !== undefined) {
      for (const passed of there.slice(next, match)) passed.remove();
      next = match + 1;
      return there[match] as Node;
    }
    built.set(child, { node: child.cloneNode(true), html });
    container.insertBefore(child, there[next] ?? null);
    return child;
  });
  for (const extra of there.slice(next)) extra.remove();
  if (focused !== null && !container.contains(document.activeElement)) refocus(container, focused);
  return placed;
}

/** The first position in `same` from `next` on whose child `equal` holds, taken out of it; positions before `next` are passed for good. */
function takeMatch(same: { at: number[]; from: number } | undefined, next: number, equal: (index: number) => boolean): number | undefined {
  if (same === undefined) return undefined;
  while (same.from < same.at.length && (same.at[same.from] ?? 0) < next) same.from++;
  // Nearly always the first: the same HTML and not equal only for the rare difference HTML does not show (a namespace, a text split in two).
  for (let k = same.from; k < same.at.length; k++) {
    const index = same.at[k] as number;
    if (!equal(index)) continue;
    if (k === same.from) same.from++;
    else same.at.splice(k, 1);
    return index;
  }
  return undefined;
}

function htmlOf(node: Node): string {
  return node instanceof Element ? node.outerHTML : `${node.nodeType}:${node.nodeValue ?? ''}`;
}

/** How the focused control inside `container` is found again once it is redrawn: its focus id, else its accessible name. */
type FocusKey = { readonly attribute: 'data-focus-id' | 'aria-label'; readonly value: string } | { readonly attribute: undefined };

/** How the focused element in `container` is found again; null if the focus is not in it (a focused element with neither a focus id nor a name cannot be found again: the focus goes to the view's start). */
function focusKeyIn(container: HTMLElement): FocusKey | null {
  const active = document.activeElement;
  // On the container itself, the focus stays where it is whatever its children become.
  if (!(active instanceof HTMLElement) || active === container || !container.contains(active)) return null;
  for (const attribute of ['data-focus-id', 'aria-label'] as const) {
    const value = active.getAttribute(attribute);
    if (value !== null) return { attribute, value };
  }
  return { attribute: undefined };
}

/**
 * Gives the focus back to the control `key` finds in `container`, redrawn. If it is disabled
 * now (the pager's Last on the last page), to the nearest control beside it that is not (the
 * pager's Previous); if it is gone (the view changed: a run opened, Back pressed), to the
 * view's (the enclosing section's) first heading (made focusable, not a Tab stop), else its first control, else the
 * container itself if it is focusable: never left on the page's body, where a keyboard or
 * screen-reader user would have to start again from the top.
 */
function refocus(container: HTMLElement, key: FocusKey | null): void {
  if (key === null) return;
  const again = findControl(container, key);
  // Gone from a part of a view (a job's toolbar without its Cancel): the start of the whole view, its section.
  const target = again === undefined ? viewStart(container.closest<HTMLElement>('section') ?? container) : usable(again) ? again : nearestUsable(again, container);
  if (target !== undefined) focusControl(target);
}

function findControl(container: HTMLElement, key: FocusKey): HTMLElement | undefined {
  if (key.attribute === undefined) return undefined;
  // Compared as strings, not put in a selector: a focus id may hold any character.
  return [...container.querySelectorAll<HTMLElement>(`[${key.attribute}]`)].find((element) => element.getAttribute(key.attribute) === key.value && shown(element));
}

const focusable = 'a[href], button, input, select, textarea, summary, vscode-button, [tabindex]:not([tabindex="-1"])';

/** Drawn (not hidden, nor in a closed details). */
function shown(element: HTMLElement): boolean {
  return element.getClientRects().length > 0;
}

/** Focusable by the user now: drawn and not disabled (a refused button, aria-disabled, stays focusable on purpose). */
function usable(element: HTMLElement): boolean {
  return shown(element) && !element.hasAttribute('disabled');
}

/** The usable control nearest `element` in document order, looked for in its parent, then further up to `container`. */
function nearestUsable(element: HTMLElement, container: HTMLElement): HTMLElement | undefined {
  for (let scope = element.parentElement; scope !== null; scope = scope === container ? null : scope.parentElement) {
    const controls = [...scope.querySelectorAll<HTMLElement>(focusable)];
    const at = controls.indexOf(element);
    if (at < 0) continue;
    for (let distance = 1; distance < controls.length; distance++) {
      for (const candidate of [controls[at + distance], controls[at - distance]]) if (candidate !== undefined && usable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Where the focus goes in a view it was lost from: its first heading, else its first usable control, else the container if it takes the focus. */
export function viewStart(container: HTMLElement): HTMLElement | undefined {
  const heading = [...container.querySelectorAll<HTMLElement>('h1, h2, h3, h4')].find(shown);
  if (heading !== undefined) {
    if (!heading.hasAttribute('tabindex')) heading.tabIndex = -1;
    return heading;
  }
  return [...container.querySelectorAll<HTMLElement>(focusable)].find(usable) ?? (container.hasAttribute('tabindex') ? container : undefined);
}

function focusControl(target: HTMLElement): void {
  if (target instanceof HTMLInputElement) {
    target.focus();
    // The caret at the end of what was typed (only a text field has one).
    if (['text', 'search', 'url', 'tel', 'password'].includes(target.type)) target.setSelectionRange(target.value.length, target.value.length);
    return;
  }
  // A Lit component (vscode-button) becomes focusable once it has rendered.
  const rendered = (target as { updateComplete?: Promise<unknown> }).updateComplete;
  if (rendered === undefined) target.focus();
  else void rendered.then(() => target.focus());
}
