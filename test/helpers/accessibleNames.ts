/**
 * What a screen reader hears, from Chromium's own accessibility tree (the DevTools protocol's
 * `Accessibility.getFullAXTree`, the names computed as assistive technology gets them): the
 * controls, rows and regions on screen whose accessible name repeats. A user moving from one
 * "Cancel" or one "Open" to the next cannot tell which job or model each belongs to.
 */
import type { Page } from 'playwright-core';

/** The roles a user moves between by name: controls, rows of tables, labelled regions. */
const namedRoles = new Set(['button', 'link', 'combobox', 'textbox', 'searchbox', 'checkbox', 'row', 'region', 'tab', 'img', 'navigation', 'toolbar', 'table']);

export interface AXNode {
  readonly ignored: boolean;
  readonly role?: { readonly value?: string };
  readonly name?: { readonly value?: string };
  readonly description?: { readonly value?: string };
  readonly properties?: readonly { readonly name: string; readonly value?: { readonly value?: unknown } }[];
}

/** Chromium's accessibility tree of the page, as assistive technology gets it. */
export async function axNodes(page: Page): Promise<AXNode[]> {
  const session = await page.context().newCDPSession(page);
  try {
    return ((await session.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] }).nodes;
  } finally {
    await session.detach();
  }
}

/** What a screen reader hears of each visible button whose name matches: its name, whether it is disabled, and its description (said after the name). */
export async function heardButtons(page: Page, name: RegExp): Promise<{ name: string; disabled: boolean; description: string }[]> {
  return (await axNodes(page))
    .filter((node) => !node.ignored && node.role?.value === 'button' && name.test(node.name?.value ?? ''))
    .map((node) => ({ name: node.name?.value ?? '', disabled: node.properties?.some((p) => p.name === 'disabled' && p.value?.value === true) ?? false, description: node.description?.value ?? '' }));
}

/** Every accessible name heard more than once among the visible controls, rows and regions, as `role "name" ×count`. */
export async function repeatedNames(page: Page): Promise<string[]> {
  const counts = new Map<string, number>();
  for (const node of await axNodes(page)) {
    const role = node.role?.value ?? '';
    const name = (node.name?.value ?? '').trim();
    if (node.ignored || !namedRoles.has(role) || name === '') continue;
    const key = `${role} "${name}"`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].filter(([, count]) => count > 1).map(([key, count]) => `${key} ×${count}`);
}
