// Paper records ↔ `.coi` source, through the real parser, checker and formatter:
// every released record imports to a chain without syntax or structural errors, in
// the formatter's canonical layout, and exports back to the same record.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { repoPath, sharedDataPath, sharedDataSkip } from '../helpers/paths';
import { checkDocument } from '../../core/check/index';
import { format } from '../../core/syntax/formatter';
import { parse } from '../../core/syntax/parser';
import { chainToRecords } from '../../core/records/fromChain';
import { fitsTextBlock, stringLiteral } from '../../core/records/coiText';
import { readRecords, writeRecord, type ImportedRecord } from '../../core/records/paperRecords';
import { recordsToTestSet, recordToCoi } from '../../core/records/toCoi';
import type { Diagnostic } from '../../core/syntax/ast';

function records(name: string): readonly ImportedRecord[] {
  return readRecords(readFileSync(sharedDataPath(name), 'utf8')).records;
}

/** Records 0, 1, 75, 446 and 372 of coi2_test.json, kept in the repository (at indexes 0 to 4 here). */
function excerpt(): readonly ImportedRecord[] {
  return readRecords(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')).records;
}

/** Errors other than composability findings (COI3xx), which the data may legitimately raise. */
function structuralErrors(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.filter((d) => d.severity === 'error' && !d.code.startsWith('COI3')).map((d) => `${d.code}: ${d.message}`);
}

function assertImportsAndExports(record: ImportedRecord, sourceName: string): void {
  const document = recordToCoi(record, { sourceName });
  const where = `${sourceName} record ${record.index}`;
  const checked = checkDocument(document.text);
  assert.deepEqual(structuralErrors(checked.diagnostics), [], where);
  assert.equal(format(document.text), document.text, `${where}: not in the formatter's layout`);
  const chain = checked.chain;
  assert.equal(chain.steps.length, record.instructions.length, where);
  assert.deepEqual(
    chain.steps.map((s) => s.instruction),
    record.instructions,
    where,
  );
  assert.equal(chain.tests.length, 1);
  assert.deepEqual(chain.tests[0]?.inputs, { source: record.input }, where);
  assert.deepEqual(
    chain.tests[0]?.expectations.map((e) => [e.target, e.matcher, e.threshold, e.value]),
    record.outputs.map((o, i) => [`step${i + 1}`, 'rouge_l', 0.5, o]),
    where,
  );
  assert.deepEqual(chainToRecords(chain), { records: [writeRecord(record.instructions, record.input, record.outputs)], notes: [] }, where);
}

void describe('records → .coi → records on the released data', () => {
  void it('every record of the coi2_test.json excerpt in test/fixtures', () => {
    const all = excerpt();
    assert.equal(all.length, 5);
    for (const record of all) assertImportsAndExports(record, 'coi2-excerpt.json');
  });

  void it('every record of coi2_test.json', { skip: sharedDataSkip }, () => {
    const all = records('coi2_test.json');
    assert.equal(all.length, 588);
    for (const record of all) assertImportsAndExports(record, 'coi2_test.json');
  });

  void it('every importable record of coi_2.json', { skip: sharedDataSkip }, () => {
    const all = records('coi_2.json');
    assert.equal(all.length, 2931);
    for (const record of all) assertImportsAndExports(record, 'coi_2.json');
  });

  void it('names files and chains after the index and the first instruction', () => {
    const first = recordToCoi(excerpt()[0] as ImportedRecord, { sourceName: 'coi2_test.json' });
    assert.equal(first.fileName, '0000-complete-the-story.coi');
    assert.equal(first.chainName, 'complete-the-story-0000');
    assert.equal(
      first.text,
      [
        'chain complete-the-story-0000',
        'description "Imported from coi2_test.json, record 0."',
        '',
        'input source: text',
        '',
        'step step1 {',
        '  instruction "Complete the story by predicting the appropriate last sentence."',
        '}',
        '',
        'step step2 {',
        '  instruction """',
        '    Determine if the last sentence of the story is ironic or not based on the given definition of irony.',
        '  """',
        '}',
        '',
        'test "record 0" {',
        '  given source = """',
        '    Sentence1: Danny bought a boat. Sentence2: His nearby marina was having a race. Sentence3: He decided to enter. Sentence4: Danny and his best friend manned the boat.',
        '  """',
        '  expect step1 rouge_l >= 0.5 "They prepared for the start of the race."',
        '  expect step2 rouge_l >= 0.5 "The input is not ironic"',
        '}',
        '',
      ].join('\n'),
    );
  });
});

void describe('test sets', () => {
  void it('records sharing a chain become one chain with one test each, and export back', { skip: sharedDataSkip }, () => {
    const byInstruction = new Map<string, ImportedRecord[]>();
    for (const record of records('coi_2.json')) byInstruction.set(record.record.instruction, [...(byInstruction.get(record.record.instruction) ?? []), record]);
    const group = [...byInstruction.values()].sort((a, b) => b.length - a.length)[0] ?? [];
    assert.ok(group.length >= 3, `largest group has ${group.length} records`);
    const result = recordsToTestSet(group, { sourceName: 'coi_2.json', threshold: 0.3, inputName: 'story' });
    assert.ok(result.ok);
    const checked = checkDocument(result.document.text);
    assert.deepEqual(structuralErrors(checked.diagnostics), []);
    assert.equal(checked.chain.tests.length, group.length);
    assert.deepEqual(
      checked.chain.tests.map((t) => t.name),
      group.map((r) => `record ${r.index}`),
    );
    assert.ok(checked.chain.tests.every((t) => t.expectations.every((e) => e.threshold === 0.3)));
    assert.deepEqual(
      chainToRecords(checked.chain).records,
      group.map((r) => writeRecord(r.instructions, r.input, r.outputs)),
    );
  });

  void it('records of different chains are refused with both indexes', () => {
    const [a, b] = excerpt();
    const result = recordsToTestSet([a as ImportedRecord, b as ImportedRecord]);
    assert.ok(!result.ok);
    assert.match(result.message, /^Records 0 and 1 have different instructions/);
  });

  void it('a threshold outside [0, 1] or an input name that is not an identifier is refused', () => {
    const record = excerpt()[0] as ImportedRecord;
    assert.throws(() => recordToCoi(record, { threshold: 1.5 }), /between 0 and 1/);
    assert.throws(() => recordToCoi(record, { inputName: 'my input' }), /must be an identifier/);
  });
});

void describe('string values in .coi source', () => {
  const cases = [
    'He said """hi""" and left.',
    '    every line indented\n    like code',
    'trailing blanks   ',
    '\nleading blank line',
    'ending blank line\n',
    'a\n   \nwhitespace-only line',
    'carriage\r\nreturn',
    'tab\tand \\ backslash and "quotes"',
    'first line\n  indented second line\n\nafter a blank line',
    '',
    'ünïcödé ✓ and an emoji 🤣',
  ];

  void it('reads back exactly whatever form is chosen', () => {
    for (const value of cases) {
      const source = `chain c\ninput x: text\nstep s {\n  instruction ${stringLiteral(value, { indent: '  ', inlineMax: 0 })}\n}\n`;
      const parsed = parse(source);
      assert.deepEqual(parsed.diagnostics, [], JSON.stringify(value));
      const step = parsed.file.declarations.find((d) => d.kind === 'step');
      assert.equal(step?.kind === 'step' ? step.instruction?.text?.value : undefined, value, JSON.stringify(value));
    }
  });

  void it('uses a text block only when it reads back the same, else a double-quoted string', () => {
    assert.equal(fitsTextBlock('first line\n  indented second line\n\nafter a blank line'), true);
    for (const value of cases.slice(0, 7)) assert.equal(fitsTextBlock(value), false, JSON.stringify(value));
    assert.equal(stringLiteral('He said """hi"""', { indent: '' }), '"He said \\"\\"\\"hi\\"\\"\\""');
    assert.equal(stringLiteral('short', { indent: '  ' }), '"short"');
    assert.equal(stringLiteral('line one\nline two', { indent: '  ' }), '"""\n    line one\n    line two\n  """');
  });
});
