// The panel's DOM helpers (webview/ui/dom.ts) in headless Chromium, on a blank page: what
// `patchChildren` keeps and replaces when a view is redrawn (the rows that did not change
// stay the same elements, changed rows are replaced, the new order), that it keeps what the
// former algorithm kept (compared on random redraws), that it does not compare every new row
// with every old one, and where the focus goes back after a redraw.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { domPage, type Dom } from '../helpers/domPage';
import { chromiumPath, startPanelHarness, type PanelHarness } from '../helpers/panelHarness';

const skip = !existsSync(chromiumPath) ? `no Chromium at ${chromiumPath}` : undefined;

let harness: PanelHarness | undefined;

before(async () => {
  if (skip !== undefined) return;
  harness = await startPanelHarness();
});

after(async () => {
  await harness?.close();
});

function blankPage(): Promise<Page> {
  return domPage((harness as PanelHarness).browser);
}

void test('patchChildren: unchanged rows stay the same elements, changed rows are replaced, the new order is taken, rows gone are removed', { skip }, async () => {
  const page = await blankPage();
  const outcome = await page.evaluate(() => {
    const { dom } = window as unknown as { dom: Dom };
    const box = document.getElementById('box') as HTMLElement;
    const row = (id: string, text: string): HTMLElement => dom.h('tr', { 'data-id': id }, dom.h('td', {}, text));
    const ids = (): string[] => Array.from(box.children).map((c) => `${(c as HTMLElement).dataset.id ?? ''}:${c.textContent ?? ''}`);
    dom.patchChildren(box, row('a', '1'), row('b', '1'), row('c', '1'), row('d', '1'), row('e', '1'));
    const [a, b, c, d, e] = Array.from(box.children);
    // b changed, d gone, f new between c and e, and the user marked c since it was built (it is still c as built).
    c?.setAttribute('data-user', 'seen');
    const placed = dom.patchChildren(box, row('a', '1'), row('b', '2'), row('c', '1'), row('f', '1'), row('e', '1'));
    const first = { order: ids(), kept: [placed[0] === a, placed[1] === b, placed[2] === c, placed[4] === e], dIn: d?.isConnected, placedInBox: placed.every((p, i) => box.children[i] === p) };
    // A row added at the top and one removed from the middle: the others stay.
    const before = Array.from(box.children);
    const again = dom.patchChildren(box, row('z', '1'), row('a', '1'), row('b', '2'), row('f', '1'), row('e', '1'));
    const second = { order: ids(), kept: [again[1] === before[0], again[2] === before[1], again[3] === before[3], again[4] === before[4]], cGone: !before[2]?.isConnected, zNew: !before.includes(again[0] as Element) };
    // Two identical rows become one; a row moved before another is kept, the one passed over is built anew.
    dom.patchChildren(box, row('x', '1'), row('x', '1'), row('y', '1'));
    const [x1, x2, y] = Array.from(box.children);
    const dup = dom.patchChildren(box, row('x', '1'), row('y', '1'));
    const third = { kept: [dup[0] === x1, dup[1] === y], x2Gone: !x2?.isConnected, order: ids() };
    const swapped = dom.patchChildren(box, row('y', '1'), row('x', '1'));
    const fourth = { yKept: swapped[0] === y, xNew: swapped[1] !== x1, order: ids() };
    return { first, second, third, fourth };
  });
  assert.deepEqual(outcome.first, { order: ['a:1', 'b:2', 'c:1', 'f:1', 'e:1'], kept: [true, false, true, true], dIn: false, placedInBox: true });
  assert.deepEqual(outcome.second, { order: ['z:1', 'a:1', 'b:2', 'f:1', 'e:1'], kept: [true, true, true, true], cGone: true, zNew: true });
  assert.deepEqual(outcome.third, { kept: [true, true], x2Gone: true, order: ['x:1', 'y:1'] });
  assert.deepEqual(outcome.fourth, { yKept: true, xNew: true, order: ['y:1', 'x:1'] });
  await page.close();
});

void test('patchChildren keeps exactly what the former algorithm kept (each new child matched with the first equal old child after the last match), over 300 random redraws', { skip }, async () => {
  const page = await blankPage();
  const mismatches = await page.evaluate(() => {
    const { dom } = window as unknown as { dom: Dom };
    const formerPatch = dom.formerPatchChildren;
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // A child: an element with an attribute or two (set in one order, as `h` sets them), a nested cell whose text is
    // now and then in two text nodes (the same HTML, not the same node to isEqualNode); or a text node.
    type Spec = { text?: string; tag?: string; attributes?: [string, string][]; cell?: string; split?: boolean };
    const spec = (): Spec => {
      if (random(10) === 0) return { text: `t${random(3)}` };
      const attributes: [string, string][] = [['data-id', String(random(6))]];
      if (random(2) === 0) attributes.push(['class', `c${random(2)}`]);
      return { tag: random(4) === 0 ? 'p' : 'tr', attributes, cell: `x${random(3)}`, split: random(3) === 0 };
    };
    const make = (s: Spec): Node => {
      if (s.text !== undefined) return document.createTextNode(s.text);
      const element = document.createElement(s.tag ?? 'tr');
      for (const [name, value] of s.attributes ?? []) element.setAttribute(name, value);
      if (s.cell !== undefined) element.append(s.split === true ? dom.h('td', {}, s.cell.slice(0, 1), s.cell.slice(1)) : dom.h('td', {}, s.cell));
      return element;
    };
    const mine = document.createElement('div');
    const former = document.createElement('div');
    const found: string[] = [];
    let specs: Spec[] = [];
    for (let round = 0; round < 300; round++) {
      // The next list: some children kept, some changed, some new, some dropped, now and then reordered.
      const nextSpecs: Spec[] = [];
      for (const s of specs) {
        const roll = random(10);
        if (roll === 0) continue;
        if (roll === 1) nextSpecs.push(spec());
        else if (roll === 2) nextSpecs.push(s, s);
        else nextSpecs.push(s);
        if (random(8) === 0) nextSpecs.push(spec());
      }
      while (nextSpecs.length < 4) nextSpecs.splice(random(nextSpecs.length + 1), 0, spec());
      if (random(5) === 0) nextSpecs.reverse();
      specs = nextSpecs.slice(0, 40);
      const thereMine = Array.from(mine.childNodes);
      const thereFormer = Array.from(former.childNodes);
      const placedMine = dom.patchChildren(mine, ...specs.map(make)).map((n) => thereMine.indexOf(n as ChildNode));
      const placedFormer = formerPatch(former, ...specs.map(make)).map((n) => thereFormer.indexOf(n as ChildNode));
      if (JSON.stringify(placedMine) !== JSON.stringify(placedFormer) || mine.innerHTML !== former.innerHTML) found.push(`round ${round}: kept ${JSON.stringify(placedMine)} instead of ${JSON.stringify(placedFormer)}`);
      // The user (or a component) changes a kept child: it is still matched by how it was built.
      const touched = random(Math.max(1, mine.childNodes.length));
      for (const box of [mine, former]) {
        const child = box.childNodes[touched];
        if (child instanceof Element) child.setAttribute('data-user', String(round));
      }
    }
    return found;
  });
  assert.deepEqual(mismatches, []);
  await page.close();
});

void test('patchChildren: redrawing 500 and 2,000 rows that all changed does not compare each new row with every old one', { skip }, async () => {
  const page = await blankPage();
  const counts = await page.evaluate(() => {
    const { dom } = window as unknown as { dom: Dom };
    let compared = 0;
    const isEqualNode = Node.prototype.isEqualNode;
    Node.prototype.isEqualNode = function (this: Node, other: Node | null): boolean {
      compared++;
      return isEqualNode.call(this, other);
    };
    const results: { rows: number; compared: number; kept: number }[] = [];
    for (const rows of [500, 2000]) {
      const box = document.createElement('tbody');
      const draw = (round: number): Node[] => dom.patchChildren(box, ...Array.from({ length: rows }, (_, i) => dom.h('tr', { 'data-run': `run-${i}` }, dom.h('td', {}, `${i} · ${round} s`), dom.h('td', {}, dom.h('a', { href: '#' }, 'open')))));
      const first = draw(0);
      compared = 0;
      const second = draw(1);
      results.push({ rows, compared, kept: second.filter((n) => first.includes(n)).length });
    }
    Node.prototype.isEqualNode = isEqualNode;
    return results;
  });
  for (const { rows, compared, kept } of counts) {
    assert.equal(kept, 0, `${rows} rows: every row changed, none is kept`);
    assert.ok(compared <= rows, `${rows} rows: ${compared} node comparisons (the former algorithm made rows²: 250,000 for 500 rows)`);
  }
  await page.close();
});

void test('after a redraw the focus goes back to the same control by its focus id, not to another row\'s control with the same accessible name', { skip }, async () => {
  const page = await blankPage();
  const focused = await page.evaluate(() => {
    const { dom } = window as unknown as { dom: Dom };
    const box = document.getElementById('box') as HTMLElement;
    // One item's rows for two models: the same name on both buttons, a focus id each.
    const rows = (open: string): HTMLElement[] => ['base', 'tuned'].map((model) => dom.h('div', { 'data-model': model }, dom.h('button', { 'aria-label': 'Show record 1', 'data-focus-id': `record 1 ${model}`, 'aria-expanded': String(open === model) }, 'record 1')));
    const where = (): string | null => document.activeElement?.closest<HTMLElement>('[data-model]')?.dataset.model ?? null;
    dom.patchChildren(box, ...rows(''));
    box.querySelector<HTMLElement>('[data-model="tuned"] button')?.focus();
    dom.patchChildren(box, ...rows('tuned'));
    const patched = where();
    dom.replaceKeepingFocus(box, ...rows(''));
    const replaced = where();
    // A control without a focus id goes back by its accessible name.
    dom.replaceKeepingFocus(box, dom.h('button', { 'aria-label': 'Next page' }, 'Next'));
    box.querySelector('button')?.focus();
    dom.replaceKeepingFocus(box, dom.h('button', { 'aria-label': 'Next page' }, 'Next'));
    return { patched, replaced, byName: document.activeElement?.getAttribute('aria-label') ?? null };
  });
  assert.deepEqual(focused, { patched: 'tuned', replaced: 'tuned', byName: 'Next page' });
  await page.close();
});
