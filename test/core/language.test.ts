// Property tests of core/language (the editor-agnostic queries behind the server): on
// any text — valid chains mutated at random, or arbitrary strings — no query throws, and
// every span it returns lies inside the document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { checkDocument } from '../../core/check';
import { completionsAt } from '../../core/language/completion';
import { foldingRegions } from '../../core/language/folding';
import { hoverAt } from '../../core/language/hover';
import { outline } from '../../core/language/outline';
import { quickFixes } from '../../core/language/quickFixes';
import { applyEdits, prepareRename, rename } from '../../core/language/rename';
import { selectionSpans } from '../../core/language/selection';
import { semanticTokens } from '../../core/language/semanticTokens';
import { indexSymbols, occurrencesAt } from '../../core/language/symbols';
import type { Span } from '../../core/syntax/ast';
import { repoPath } from '../helpers/paths';

const examples = readdirSync(repoPath('examples'))
  .filter((f) => f.endsWith('.coi'))
  .map((f) => readFileSync(repoPath('examples', f), 'utf8'));

function inside(span: Span, length: number): void {
  assert.ok(span.start >= 0 && span.start <= span.end && span.end <= length, `span ${span.start}-${span.end} outside 0-${length}`);
}

function exercise(text: string, offsets: readonly number[]): void {
  const { file, chain, diagnostics } = checkDocument(text);
  const index = indexSymbols(file);
  const lineCount = text.split(/\r\n|\r|\n/).length;
  for (const region of foldingRegions(file, text)) assert.ok(region.startLine < region.endLine && region.endLine < lineCount);
  for (const s of outline(file)) inside(s.span, text.length);
  for (const t of semanticTokens(file, index)) inside(t.span, text.length);
  for (const d of diagnostics) {
    for (const fix of quickFixes(file, text, d)) {
      for (const e of fix.edits) inside(e.span, text.length);
      applyEdits(text, fix.edits);
    }
  }
  for (const raw of offsets) {
    const offset = Math.min(raw, text.length);
    const completion = completionsAt(file, text, offset);
    inside(completion.replace, text.length);
    const hover = hoverAt(file, index, offset, { diagnostics, chain });
    if (hover) {
      inside(hover.span, text.length);
      assert.ok(hover.span.start <= offset && offset <= hover.span.end, `hover span ${hover.span.start}-${hover.span.end} does not contain ${offset}`);
    }
    const spans = selectionSpans(file, offset);
    for (let i = 1; i < spans.length; i++) {
      const inner = spans[i - 1] as Span;
      const outer = spans[i] as Span;
      assert.ok(outer.start <= inner.start && inner.end <= outer.end, 'selection ranges nest');
    }
    occurrencesAt(index, offset);
    const prepared = prepareRename(index, offset);
    if (prepared && 'span' in prepared) {
      inside(prepared.span, text.length);
      const renamed = rename(index, offset, 'renamed_id');
      if ('edits' in renamed) applyEdits(text, renamed.edits);
    }
  }
}

void test('the examples: every query at every 7th offset', () => {
  assert.ok(examples.length > 0);
  for (const text of examples) {
    const offsets = Array.from({ length: Math.ceil(text.length / 7) + 1 }, (_, i) => i * 7);
    exercise(text, offsets);
  }
});

void test('random mutations of the examples never make a query throw', () => {
  const mutation = fc.record({
    example: fc.nat({ max: Math.max(0, examples.length - 1) }),
    at: fc.nat(),
    remove: fc.nat({ max: 12 }),
    insert: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('{', '}', '"""', '"', "'", '[', ']', '\n', 'step x {', 'from ', 'expect ', ' label [')),
    offsets: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
  });
  fc.assert(
    fc.property(mutation, (m) => {
      const base = examples[m.example] ?? '';
      const at = m.at % (base.length + 1);
      const text = base.slice(0, at) + m.insert + base.slice(at + m.remove);
      exercise(text, m.offsets.map((o) => o % (text.length + 1)));
    }),
    { numRuns: 300, seed: 42 },
  );
});

void test('arbitrary strings never make a query throw', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200, unit: 'binary' }), fc.array(fc.nat({ max: 200 }), { maxLength: 4 }), (text, offsets) => {
      exercise(text, offsets.map((o) => Math.min(o, text.length)));
    }),
    { numRuns: 300, seed: 7 },
  );
});
