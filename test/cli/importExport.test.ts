// `coi import` and `coi export` through the real bundled CLI, on the paper's data and
// on small hand-made record files in temporary directories.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repoPath, sharedDataPath, sharedDataSkip } from '../helpers/paths';
import { normalizeMarkedOutput } from '../../core/records/markers';
import type { PaperRecord } from '../../core/records/paperRecords';
import { partialPath } from '../../core/syntax/processes';
import { deadPid } from '../helpers/processes';
import { tempDir } from '../helpers/tempDir';
import { coi, coiAsync, coiWithFileSizeLimit } from './cliProcess';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
function workDir(): string {
  const dir = join(root, `case-${++counter}`);
  mkdirSync(dir);
  return dir;
}

const testSetPath = sharedDataPath('coi2_test.json');

const irony = (input: string, last: string, o1 = 'They prepared for the race.'): PaperRecord => ({
  instruction: 'Complete the story by predicting the appropriate last sentence. and then Determine if the last sentence of the story is ironic or not.',
  input,
  output: `Task 1 output and task 2 input: ${o1}  Task2 output: ${last}`,
});

function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

void describe('coi import → coi check → coi export on coi2_test.json', { skip: sharedDataSkip }, () => {
  const dir = workDir();
  const imported = coi(['import', '--from', 'coi-json', testSetPath, '--out', 'chains'], { cwd: dir });
  const original = JSON.parse(readFileSync(testSetPath, 'utf8')) as PaperRecord[];

  void it('writes one .coi file per record, named after the index and the first instruction', () => {
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, '');
    assert.equal(imported.stderr, 'Imported 588 records into 588 files in chains/.\n');
    const files = readdirSync(join(dir, 'chains')).sort();
    assert.equal(files.length, 588);
    assert.equal(files[0], '0000-complete-the-story.coi');
    assert.equal(files[587], '0587-generate-a-short.coi');
    const first = readFileSync(join(dir, 'chains', files[0] as string), 'utf8');
    assert.match(first, /^chain complete-the-story-0000\n/);
    assert.match(first, /^input source: text$/m);
    assert.match(first, /^ {2}expect step1 rouge_l >= 0\.5 "They prepared for the start of the race\."$/m);
    assert.match(first, /^ {2}expect step2 rouge_l >= 0\.5 "The input is not ironic"$/m);
  });

  void it('the imported files have no syntax or structural errors', () => {
    const checked = coi(['check', '--format', 'json', '--no-warnings', 'chains'], { cwd: dir });
    const diagnostics = JSON.parse(checked.stdout) as { code: string; file: string }[];
    const structural = diagnostics.filter((d) => !d.code.startsWith('COI3'));
    assert.deepEqual(structural, []);
    assert.match(checked.stderr, /588 files checked/);
  });

  void it('exports them back to the same records (canonical markers)', () => {
    const exported = coi(['export', '--to', 'coi-json', 'chains', '--out', 'back.json'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stderr, 'Exported 588 records from 588 files to back.json.\n');
    const back = JSON.parse(readFileSync(join(dir, 'back.json'), 'utf8')) as PaperRecord[];
    assert.equal(back.length, original.length);
    for (const [i, record] of original.entries()) {
      assert.deepEqual(back[i], { instruction: record.instruction, input: record.input, output: normalizeMarkedOutput(record.output, 2) }, `record ${i}`);
    }
  });

  void it('refuses to overwrite without --force, and overwrites with it', () => {
    const again = coi(['import', '--from', 'coi-json', testSetPath, '--out', 'chains'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, "coi import: 588 files already exist (first: 'chains/0000-complete-the-story.coi'): nothing written (--force overwrites).\n");
    const forced = coi(['import', '--from', 'coi-json', testSetPath, '--out', 'chains', '--force', '--threshold', '0.25'], { cwd: dir });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(readFileSync(join(dir, 'chains', '0000-complete-the-story.coi'), 'utf8'), /rouge_l >= 0\.25 /);
  });
});

void describe('coi import --test-set', () => {
  void it('writes one chain with one test per record, which exports back record for record', () => {
    const dir = workDir();
    const records = [irony('Story one.', 'The input is not ironic'), irony('Story two.', 'The input is ironic', 'Line one\nLine two')];
    writeJson(dir, 'records.json', records);
    const result = coi(['import', 'records.json', '--test-set', 'irony.coi'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "Imported 2 records as 2 tests of chain 'complete-the-story' in irony.coi.\n");
    const text = readFileSync(join(dir, 'irony.coi'), 'utf8');
    assert.equal(text.match(/^test "record \d+" \{$/gm)?.length, 2);
    assert.equal(text.match(/^step /gm)?.length, 2);
    const checked = coi(['check', 'irony.coi', '--format', 'json'], { cwd: dir });
    assert.deepEqual((JSON.parse(checked.stdout) as { severity: string; code: string }[]).filter((d) => d.severity === 'error' && !d.code.startsWith('COI3')), []);
    const exported = coi(['export', 'irony.coi', '--to', 'coi-jsonl'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as PaperRecord);
    assert.deepEqual(
      lines,
      records.map((r) => ({ ...r, output: normalizeMarkedOutput(r.output, 2) })),
    );
  });

  void it('--force onto a FIFO (as onto /dev/stdout) writes into it, and leaves it a FIFO', { skip: process.platform === 'win32' ? 'mkfifo is POSIX' : false }, async () => {
    const dir = workDir();
    writeJson(dir, 'records.json', [irony('Story one.', 'fine')]);
    const fifo = join(dir, 'out.coi');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    // The reader is another process: opening a FIFO blocks until both ends are open.
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let read = '';
      reader.stdout.on('data', (d: Buffer) => (read += d.toString()));
      const readerDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
      const result = await coiAsync(['import', 'records.json', '--test-set', 'out.coi', '--force'], { cwd: dir });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(lstatSync(fifo).isFIFO(), true, 'still a FIFO, not a file renamed over it');
      await readerDone;
      assert.match(read, /^chain complete-the-story\n/);
      assert.match(read, /^test "record 0" \{$/m);
      assert.deepEqual(readdirSync(dir).sort(), ['out.coi', 'records.json'], 'no temporary beside it');
    } finally {
      if (reader.exitCode === null && reader.signalCode === null) reader.kill();
    }
  });

  void it('refuses records that are not one chain', () => {
    const dir = workDir();
    writeJson(dir, 'mixed.json', [irony('a', 'b'), { ...irony('c', 'd'), instruction: 'Summarize. and then Translate.' }]);
    const result = coi(['import', 'mixed.json', '--test-set', 'x.coi'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^coi import: Records 0 and 1 have different instructions, so they are not one chain/);
    assert.deepEqual(readdirSync(dir), ['mixed.json']);
  });
});

void describe('coi import: bad input', () => {
  void it('reports invalid JSON with its line and column', () => {
    const dir = workDir();
    writeJson(dir, 'bad.json', '[\n  {"instruction": "a" "input": "b"}\n]');
    const result = coi(['import', 'bad.json', '--out', 'out'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "coi import: bad.json:2:23: Invalid JSON: Expected ',' or '}' after property value.\n");
  });

  void it('names the record, its line and the field of a wrong shape, and writes nothing', () => {
    const dir = workDir();
    // One record per line, as `coi export` writes them: each problem names its record's line.
    writeJson(dir, 'shape.json', `[\n${[irony('ok', 'fine'), { instruction: 'x', input: 3, output: 'y' }, 'nope'].map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
    const result = coi(['import', 'shape.json', '--out', 'out'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'shape.json:3: record 1: field "input" must be a string, found a number.\n' +
        'shape.json:4: record 2: expected an object with instruction, input and output, found a string.\n' +
        'coi import: 2 invalid records in shape.json: nothing written (--skip-invalid imports the others).\n',
    );
    assert.deepEqual(readdirSync(dir), ['shape.json']);
  });

  void it('names the record of unparseable markers; --skip-invalid imports the others', () => {
    const dir = workDir();
    writeJson(dir, 'markers.json', [irony('ok', 'fine'), { ...irony('x', 'y'), output: 'Task 2 output: y\nTask 1 output and task 2 input: x' }]);
    const refused = coi(['import', 'markers.json', '--out', 'out'], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^markers\.json:1: record 1: Marker for task 2 'Task 2 output:' \(offset 0\) comes before the marker for task 1/);
    const skipped = coi(['import', 'markers.json', '--out', 'out', '--skip-invalid'], { cwd: dir });
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /Skipped 1 invalid record\.\nImported 1 record into 1 file in out\/\.\n$/);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['0000-complete-the-story.coi']);
  });

  void it('names the record whose instruction has an empty step, which would be a .coi step failing COI209; --skip-invalid imports the others, and they check clean', () => {
    const dir = workDir();
    const instructions = ['Summarize the text. and then ', ' and then ', 'Summarize the text. and then  and then Translate it.', 'Summarize the text. and then \u2028'];
    writeJson(dir, 'empty-step.jsonl', [irony('ok', 'fine'), ...instructions.map((instruction) => ({ instruction, input: 'x', output: 'y' }))].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const refused = coi(['import', 'empty-step.jsonl', '--out', 'out'], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      'empty-step.jsonl:2: record 1: "instruction" joins 2 steps by " and then ", and step 2 is empty.\n' +
        'empty-step.jsonl:3: record 2: "instruction" joins 2 steps by " and then ", and step 1 is empty.\n' +
        'empty-step.jsonl:4: record 3: "instruction" joins 3 steps by " and then ", and step 2 is empty.\n' +
        'empty-step.jsonl:5: record 4: "instruction" joins 2 steps by " and then ", and step 2 is empty.\n' +
        'coi import: 4 invalid records in empty-step.jsonl: nothing written (--skip-invalid imports the others).\n',
    );
    const skipped = coi(['import', 'empty-step.jsonl', '--out', 'out', '--skip-invalid'], { cwd: dir });
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['0000-complete-the-story.coi']);
    const checked = coi(['check', 'out'], { cwd: dir });
    assert.equal(checked.code, 0, checked.stdout);
  });

  void it('refuses input that is not UTF-8 at FILE:LINE:COLUMN and writes nothing (--out, --test-set, standard input), as coi dataset build refuses it', () => {
    const dir = workDir();
    // Read as U+FFFD, the é would be written into the chains as if it were the text, and `coi check` would then read them without a word.
    const latin1 = Buffer.from(`${JSON.stringify([irony('ok', 'fine')]).slice(0, -1)},\n${JSON.stringify(irony('Le caf\u00e9 ferme.', 'b'))}]`, 'latin1');
    writeFileSync(join(dir, 'latin1.json'), latin1);
    const column = `{"instruction":"${irony('', '').instruction}","input":"Le caf`.length + 1;
    const refusal = (file: string): string =>
      `coi import: ${file}:2:${column}: not UTF-8 text (byte 0xE9 there): read as U+FFFD, it would be written into the imported chains so. Save it as UTF-8 (from Latin-1 or Windows-1252, e.g. iconv -f WINDOWS-1252 -t UTF-8). Nothing was written.\n`;
    const runs: { args: string[]; input?: Buffer }[] = [{ args: ['latin1.json', '--out', 'out'] }, { args: ['latin1.json', '--test-set', 'set.coi', '--skip-invalid'] }, { args: ['-', '--out', 'out'], input: latin1 }];
    for (const { args, input } of runs) {
      const result = coi(['import', ...args], { cwd: dir, ...(input === undefined ? {} : { input }) });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr, refusal(args[0] === '-' ? '<stdin>' : 'latin1.json'), args.join(' '));
    }
    assert.deepEqual(readdirSync(dir), ['latin1.json'], 'nothing written');
    writeFileSync(join(dir, 'utf8.json'), latin1.toString('latin1'));
    const valid = coi(['import', 'utf8.json', '--out', 'out'], { cwd: dir });
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(readFileSync(join(dir, 'out', '0001-complete-the-story.coi'), 'utf8'), /Le café ferme\./);
  });

  void it('does not offer --skip-invalid when no record is valid', () => {
    const dir = workDir();
    writeJson(dir, 'none.json', [{ instruction: 'x', input: 3, output: 'y' }]);
    const result = coi(['import', 'none.json', '--out', 'out'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /coi import: The only record in none\.json is invalid: nothing to import\.\n$/);
    assert.doesNotMatch(result.stderr, /--skip-invalid/);
  });

  void it('imports coi_2.json with --skip-invalid, naming the two records it cannot split', { skip: sharedDataSkip }, () => {
    const dir = workDir();
    const result = coi(['import', sharedDataPath('coi_2.json'), '--out', 'train', '--skip-invalid'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /record 1658: "instruction" has one instruction/);
    assert.match(result.stderr, /record 1752: "instruction" has 3 parts/);
    assert.match(result.stderr, /Imported 2931 records into 2931 files in train\/\.\n$/);
  });

  void it('reads JSON Lines, and standard input with -', () => {
    const dir = workDir();
    writeJson(dir, 'r.jsonl', [irony('a', 'b'), irony('c', 'd')].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const fromFile = coi(['import', 'r.jsonl', '--out', 'out'], { cwd: dir });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['0000-complete-the-story.coi', '0001-complete-the-story.coi']);
    const fromStdin = coi(['import', '-', '--test-set', 'stdin.coi'], { cwd: dir, input: JSON.stringify([irony('a', 'b')]) });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match(readFileSync(join(dir, 'stdin.coi'), 'utf8'), /Test set imported from standard input \(1 record\)/);
    const binary = coi(['import', '-', '--test-set', 'binary.coi'], { cwd: dir, input: Buffer.from([0x7b, 0x00, 0x7d]) });
    assert.equal(binary.code, 2);
    assert.equal(binary.stderr, 'coi import: Cannot read standard input: it is a binary file (it contains NUL bytes), not a text file.\n');
  });

  void it('usage errors exit 2', () => {
    const dir = workDir();
    const cases: [string[], RegExp][] = [
      [['import'], /No input file given/],
      [['import', 'x.json'], /Give exactly one of --out DIR or --test-set OUT\.coi/],
      [['import', 'x.json', '--out', 'a', '--test-set', 'b.coi'], /Give exactly one of/],
      [['import', 'x.json', '--out', 'a', '--threshold', '2'], /--threshold must be a number from 0 to 1 \(got '2'\)/],
      [['import', 'x.json', '--out', 'a', '--from', 'csv'], /--from must be one of coi-json, coi-jsonl, jsonl/],
      [['import', 'missing.json', '--out', 'a'], /Cannot read 'missing\.json': no such file or directory/],
    ];
    for (const [argv, message] of cases) {
      const result = coi(argv, { cwd: dir });
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.stderr, message);
    }
  });
});

void describe('--input-name', () => {
  void it('refuses, up front, a name every imported chain would fail coi check with (reserved, or a generated step id); a keyword-like name checks clean', () => {
    const dir = workDir();
    writeJson(dir, 'r.json', [irony('Tom ran.', 'Yes.')]);
    for (const [name, message] of [
      ['output', /--input-name cannot be 'output': it is reserved/],
      ['step2', /--input-name cannot be 'step2': the imported steps are named step1, step2/],
    ] as const) {
      const result = coi(['import', 'r.json', '--out', name, '--input-name', name], { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(existsSync(join(dir, name)), false, 'nothing written');
    }
    assert.equal(coi(['import', 'r.json', '--out', 'step', '--input-name', 'step'], { cwd: dir }).code, 0);
    assert.equal(coi(['check', '--no-warnings', 'step'], { cwd: dir }).code, 0);
  });
});

void describe('text that a text block cannot hold', () => {
  void it('survives import and export (triple quotes, indentation, trailing blanks)', () => {
    const dir = workDir();
    const tricky = [
      irony('He said """hi""" twice.', 'Quote: """ironic"""'),
      irony('    indented input', 'fine', '  first\n\n  second  '),
      irony('tab\tand \\ backslash', 'ends with a quote"'),
    ];
    writeJson(dir, 'tricky.json', tricky);
    assert.equal(coi(['import', 'tricky.json', '--out', 'out'], { cwd: dir }).code, 0);
    const exported = coi(['export', 'out'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    const back = JSON.parse(exported.stdout) as PaperRecord[];
    assert.deepEqual(
      back,
      tricky.map((r) => ({ ...r, output: normalizeMarkedOutput(r.output, 2) })),
    );
  });
});

void describe("the paper's other record shapes", () => {
  const fixture = (name: string): string => repoPath('test', 'fixtures', 'records', name);
  const fixtureRecords = (name: string): PaperRecord[] => (JSON.parse(readFileSync(fixture(name), 'utf8')) as PaperRecord[]).map(({ instruction, input, output }) => ({ instruction, input, output }));

  void it('one-instruction records (no markers) import as chains of one step, check clean and export back unchanged', () => {
    const dir = workDir();
    const imported = coi(['import', fixture('one-instruction.json'), '--out', 'bbh'], { cwd: dir });
    assert.equal(imported.code, 0, imported.stderr);
    const first = readFileSync(join(dir, 'bbh', '0000-evaluate-the-result.coi'), 'utf8');
    assert.equal(first.match(/^step /gm)?.length, 1);
    assert.match(first, /^ {2}expect step1 rouge_l >= 0\.5 "False"$/m);
    const checked = coi(['check', 'bbh'], { cwd: dir });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stderr, /3 files checked/);
    const exported = coi(['export', 'bbh', '--to', 'jsonl'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    const back = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as PaperRecord);
    assert.deepEqual(back, fixtureRecords('one-instruction.json').map((r) => ({ ...r, output: r.output.trim() })));
  });

  void it('multi-step records whose output is only the final answer: a reference for the last step, and round trip', () => {
    const dir = workDir();
    const imported = coi(['import', fixture('final-answer.json'), '--test-set', 'news.coi'], { cwd: dir });
    assert.equal(imported.code, 0, imported.stderr);
    const text = readFileSync(join(dir, 'news.coi'), 'utf8');
    assert.equal(text.match(/^step /gm)?.length, 2);
    assert.equal(text.match(/expect step1 /g), null);
    assert.equal(text.match(/expect step2 rouge_l/g)?.length, 2);
    const checked = coi(['check', 'news.coi', '--format', 'json'], { cwd: dir });
    assert.deepEqual((JSON.parse(checked.stdout) as { severity: string }[]).filter((d) => d.severity === 'error'), []);
    const exported = coi(['export', 'news.coi'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(JSON.parse(exported.stdout), fixtureRecords('final-answer.json'));
  });

  void it('--step-field 1=eng_output gives the intermediate step its reference', () => {
    const dir = workDir();
    const imported = coi(['import', fixture('final-answer.json'), '--test-set', 'news.coi', '--step-field', '1=eng_output'], { cwd: dir });
    assert.equal(imported.code, 0, imported.stderr);
    const text = readFileSync(join(dir, 'news.coi'), 'utf8');
    assert.match(text, /^ {2}expect step1 rouge_l >= 0\.5 "The city council is closing the old bridge for three months of repairs\."$/m);
    assert.match(text, /^ {2}expect step2 rouge_l >= 0\.5 "Le conseil municipal ferme le vieux pont pendant trois mois de travaux\."$/m);
    // With a reference for every step the export writes both behind the markers.
    const back = JSON.parse(coi(['export', 'news.coi'], { cwd: dir }).stdout) as PaperRecord[];
    assert.equal(back[0]?.output, 'Task 1 output and task 2 input: The city council is closing the old bridge for three months of repairs.\nTask 2 output: Le conseil municipal ferme le vieux pont pendant trois mois de travaux.');
    const wrong = coi(['import', fixture('final-answer.json'), '--test-set', 'x.coi', '--step-field', '1=summary_en'], { cwd: dir });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /record 0: field "summary_en" \(the reference of step 1, --step-field 1=summary_en\) must be a string; it is missing\./);
    const usage = coi(['import', fixture('final-answer.json'), '--test-set', 'x.coi', '--step-field', 'eng_output'], { cwd: dir });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--step-field 'eng_output': expected STEP=FIELD/);
  });
});

void describe('record order above 9,999 records', () => {
  void it('pads the file names to the width of the count, and exports in record order', () => {
    const dir = workDir();
    const records = Array.from({ length: 10_012 }, (_, i) => irony(`Story ${i}.`, `Ending ${i}.`));
    writeJson(dir, 'many.jsonl', records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const imported = coi(['import', 'many.jsonl', '--out', 'out'], { cwd: dir });
    assert.equal(imported.code, 0, imported.stderr);
    const files = readdirSync(join(dir, 'out')).sort();
    assert.equal(files[0], '00000-complete-the-story.coi');
    assert.equal(files[1000], '01000-complete-the-story.coi');
    assert.equal(files[10_011], '10011-complete-the-story.coi');
    const exported = coi(['export', 'out', '--to', 'jsonl', '--out', 'back.jsonl'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    const back = readFileSync(join(dir, 'back.jsonl'), 'utf8').trim().split('\n');
    assert.deepEqual(back.map((l) => (JSON.parse(l) as PaperRecord).input), records.map((r) => r.input));
  });

  void it('exports files named by the old unpadded scheme in record order', () => {
    const dir = workDir();
    mkdirSync(join(dir, 'old'));
    for (const index of [9999, 10000, 1000, 1001]) {
      writeJson(dir, 'one.json', [irony(`Story ${index}.`, 'fine')]);
      assert.equal(coi(['import', 'one.json', '--test-set', join('old', `${index}-complete-the-story.coi`)], { cwd: dir }).code, 0);
    }
    const exported = coi(['export', 'old', '--to', 'jsonl'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    const inputs = exported.stdout.trim().split('\n').map((l) => (JSON.parse(l) as PaperRecord).input);
    assert.deepEqual(inputs, ['Story 1000.', 'Story 1001.', 'Story 9999.', 'Story 10000.']);
  });
});

void describe('coi export', () => {
  void it('refuses to write over one of its inputs (exit 2), and leaves it as it was', () => {
    const dir = workDir();
    writeJson(dir, 'one.json', [irony('Story.', 'fine')]);
    assert.equal(coi(['import', 'one.json', '--test-set', 'a.coi'], { cwd: dir }).code, 0);
    const before = readFileSync(join(dir, 'a.coi'), 'utf8');
    for (const out of ['a.coi', './a.coi', join(dir, 'a.coi')]) {
      const result = coi(['export', 'a.coi', '--out', out], { cwd: dir });
      assert.equal(result.code, 2, out);
      assert.match(result.stderr, /coi export: --out '.*a\.coi' is one of the files being exported: name another file\./);
      assert.equal(readFileSync(join(dir, 'a.coi'), 'utf8'), before);
    }
  });

  void it('creates the missing folders of --out', () => {
    const dir = workDir();
    writeJson(dir, 'one.json', [irony('Story.', 'fine')]);
    assert.equal(coi(['import', 'one.json', '--test-set', 'a.coi'], { cwd: dir }).code, 0);
    const result = coi(['export', 'a.coi', '--out', join('missing-dir', 'y.json')], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Exported 1 record from 1 file to missing-dir\/y\.json\.\n$/);
    assert.equal((JSON.parse(readFileSync(join(dir, 'missing-dir', 'y.json'), 'utf8')) as PaperRecord[]).length, 1);
  });

  void it('--out replaces the previous file only once the new one is whole: a write that fails leaves it as it was', { skip: process.platform === 'win32' ? 'ulimit is POSIX' : false }, () => {
    const dir = workDir();
    writeJson(dir, 'many.jsonl', Array.from({ length: 60 }, (_, i) => JSON.stringify(irony(`Story ${i}.`, 'The input is not ironic'))).join('\n'));
    assert.equal(coi(['import', 'many.jsonl', '--test-set', 'many.coi'], { cwd: dir }).code, 0);
    const previous = '[{"previous": "export"}]\n';
    writeFileSync(join(dir, 'records.json'), previous);
    chmodSync(join(dir, 'records.json'), 0o640);
    symlinkSync('records.json', join(dir, 'link.json'));
    for (const out of ['records.json', 'link.json']) {
      // Some 20 KB of records under a limit of 2 blocks (at most 2 KiB): the write fails midway.
      const failed = coiWithFileSizeLimit(['export', 'many.coi', '--out', out], dir, 2);
      assert.equal(failed.code, 2, failed.stderr);
      assert.match(failed.stderr, new RegExp(`^coi export: Cannot write '${out.replace('.', '\\.')}': the file is larger than the system allows`, 'm'));
      assert.equal(readFileSync(join(dir, 'records.json'), 'utf8'), previous, 'the previous file is whole');
    }
    assert.deepEqual(readdirSync(dir).sort(), ['link.json', 'many.coi', 'many.jsonl', 'records.json'], 'no temporary is left behind');
    const done = coi(['export', 'many.coi', '--out', 'link.json'], { cwd: dir });
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8')) as PaperRecord[]).length, 60, 'written through the link');
    assert.equal(lstatSync(join(dir, 'link.json')).isSymbolicLink(), true);
    assert.equal(statSync(join(dir, 'records.json')).mode & 0o777, 0o640, 'the permissions of the file replaced are kept');
  });

  void it('says which records do not import back as their chain and test (" and then " in a step instruction, marker text in a reference); one the split at sentence ends reads back says nothing', () => {
    const dir = workDir();
    const chain = (name: string, instructions: readonly string[], references = instructions.map((_, i) => `o${i + 1}`)): string =>
      `chain ${name}\ninput source: text\n\n${instructions.map((instruction, i) => `step s${i + 1} {\n  instruction ${JSON.stringify(instruction)}\n}\n\n`).join('')}test "t" {\n  given source = "x"\n${references.map((reference, i) => `  expect s${i + 1} rouge_l >= 0.5 ${JSON.stringify(reference)}\n`).join('')}}\n`;
    writeFileSync(join(dir, 'one.coi'), chain('one', ['Read the text and then summarize it.']));
    writeFileSync(join(dir, 'two.coi'), chain('two', ['Read the text and then summarize it', 'Translate it.']));
    writeFileSync(join(dir, 'ends.coi'), chain('ends', ['Read the text and then summarize it.', 'Translate it.'], ['  Summary. ', 'Résumé.']));
    writeFileSync(join(dir, 'mark1.coi'), chain('mark1', ['Write a heading.'], ['Task 1 output: hello']));
    writeFileSync(join(dir, 'mark2.coi'), chain('mark2', ['Write a heading.', 'Translate it.'], ['It reads Task 2 output: none', 'Résumé.']));
    const exported = coi(['export', 'one.coi', 'two.coi', 'ends.coi', 'mark1.coi', 'mark2.coi', '--to', 'coi-jsonl', '--out', 'records.jsonl'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(
      exported.stderr,
      `mark1.coi: note: Chain 'mark1', test 't': a reference holds text that reads as a step marker ('Task 1 output:'): its record does not import back with the same references.\n` +
        `mark2.coi: note: Chain 'mark2', test 't': its record does not import back: Marker for task 2 appears twice: 'Task 2 output:' (offset 41) and 'Task 2 output:' (offset 61).\n` +
        `one.coi: note: Chain 'one': the instruction of step 's1' holds " and then ", which joins the steps of a record: its records do not import back as this chain's 1 step.\n` +
        `two.coi: note: Chain 'two': the instruction of step 's1' holds " and then ", which joins the steps of a record: its records do not import back as this chain's 2 steps.\n` +
        'Exported 5 records from 5 files to records.jsonl.\n',
    );
    // Exported all the same (the text is whole), in file name order; `ends` reads back as its two steps.
    const records = readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PaperRecord);
    assert.deepEqual(records.map((r) => r.instruction), ['Read the text and then summarize it. and then Translate it.', 'Write a heading.', 'Write a heading. and then Translate it.', 'Read the text and then summarize it.', 'Read the text and then summarize it and then Translate it.']);
  });

  void it("--out: a temporary that a killed export left beside the file is removed by the next one; a running process's is kept", () => {
    const dir = workDir();
    writeJson(dir, 'one.json', [irony('Story.', 'fine')]);
    assert.equal(coi(['import', 'one.json', '--test-set', 'a.coi'], { cwd: dir }).code, 0);
    const out = join(dir, 'records.json');
    const killed = partialPath(out, deadPid());
    const running = partialPath(out, process.pid);
    for (const partial of [killed, running]) writeFileSync(partial, '[{"half": ');
    const result = coi(['export', 'a.coi', '--out', 'records.json'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['a.coi', 'one.json', 'records.json', basename(running)].sort());
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as PaperRecord[]).length, 1);
  });

  void it('exports nothing for a chain without tests, and says so', () => {
    const dir = workDir();
    writeFileSync(join(dir, 'untested.coi'), 'chain untested\n\ninput text: text\n\nstep shout {\n  instruction "Rewrite the text in capital letters."\n  output text\n}\n');
    const result = coi(['export', 'untested.coi'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '[]\n');
    assert.match(result.stderr, /^untested\.coi: note: Chain 'untested' has no tests: nothing exported/);
    assert.match(result.stderr, /Exported 0 records from 1 file\.\n$/);
  });

  void it('refuses a file with syntax errors on one line naming its first error as coi check does (severity after the place), one line per file; and a missing file', () => {
    const dir = workDir();
    writeFileSync(join(dir, 'broken.coi'), 'chain broken\nstep s {\n  instruction """never closed\n');
    const broken = coi(['export', 'broken.coi'], { cwd: dir });
    assert.equal(broken.code, 1);
    assert.equal(broken.stderr, "coi export: broken.coi:2:8: error COI106: Unclosed block: the '{' of step 's' has no matching '}' before the end of the file (2 syntax errors: coi check broken.coi). Nothing exported.\n");
    assert.equal(broken.stdout, '');
    writeFileSync(join(dir, 'nameless.coi'), 'chain nameless\nstep {\n}\n');
    writeFileSync(join(dir, 'fine.coi'), 'chain fine\nstep s {\n  instruction "Summarize."\n}\n');
    const both = coi(['export', '.', '--quiet'], { cwd: dir });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^coi export: Nothing exported: 2 files have syntax errors:\n {2}broken\.coi:2:8: error COI106: [^\n]*\n {2}nameless\.coi:2:6: error COI105: [^\n]*\.\n$/);
    const missing = coi(['export', 'nope.coi'], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot read 'nope\.coi': no such file or directory/);
  });
});
