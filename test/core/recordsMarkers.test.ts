import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalMarker, findMarkers, joinStepOutputs, joinWithLayout, normalizeMarkedOutput, splitStepOutputs, type SplitResult } from '../../core/records/markers';

function outputsOf(result: SplitResult): readonly string[] {
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.outputs;
}

function errorOf(result: SplitResult): { code: string; message: string; offset: number; step?: number } {
  assert.ok(!result.ok, 'expected an error');
  return result.error;
}

void describe('step markers: accepted spellings', () => {
  const variants: [string, string][] = [
    ['canonical, newline', 'Task 1 output and task 2 input: A\nTask 2 output: B'],
    ['two spaces between steps', 'Task 1 output and task 2 input: A  Task 2 output: B'],
    ['TaskN without a space', 'Task 1 output and task 2 input: A\nTask2 output: B'],
    ['trailing space before the newline', 'Task 1 output and task 2 input: A \nTask2 output: B'],
    ['upper case', 'TASK 1 OUTPUT AND TASK 2 INPUT: A\nTASK 2 OUTPUT: B'],
    ['space before the colon', 'Task 1 output and task 2 input : A\nTask 2 output : B'],
    ['no spaces at all', 'Task1output and task2input:A\nTask2output:B'],
    ['marker split over lines', 'Task 1 output\nand task 2 input:\nA\n\nTask 2 output:\nB'],
    ['markdown bold', '**Task 1 output and task 2 input:** A\n**Task 2 output:** B'],
    ['bold around the words only', '**Task 1 output and task 2 input**: A\n**Task 2 output**: B'],
    ['intermediate marker without "and task 2 input"', 'Task 1 output: A\nTask 2 output: B'],
  ];
  for (const [name, text] of variants) {
    void it(name, () => {
      assert.deepEqual(outputsOf(splitStepOutputs(text, 2)), ['A', 'B']);
    });
  }

  void it('no whitespace between an output and the next marker', () => {
    assert.deepEqual(outputsOf(splitStepOutputs('Task 1 output and task 2 input: A.Task 2 output: B', 2)), ['A.', 'B']);
  });

  void it('keeps multi-line outputs and inner whitespace, trims only the ends', () => {
    const text = 'Task 1 output and task 2 input:\n  line one\n\n  line two  \nTask 2 output:   x  y ';
    assert.deepEqual(outputsOf(splitStepOutputs(text, 2)), ['line one\n\n  line two', 'x  y']);
  });

  void it('splits three steps', () => {
    const text = 'Task 1 output and task 2 input: a\nTask 2 output and task 3 input: b\nTask 3 output: c';
    assert.deepEqual(outputsOf(splitStepOutputs(text, 3)), ['a', 'b', 'c']);
  });

  void it('accepts a one-step text without any marker', () => {
    assert.deepEqual(outputsOf(splitStepOutputs('  just the answer\n', 1)), ['just the answer']);
    assert.deepEqual(outputsOf(splitStepOutputs('Task 1 output: x', 1)), ['x']);
  });

  void it('keeps an empty step output', () => {
    assert.deepEqual(outputsOf(splitStepOutputs('Task 1 output and task 2 input:\nTask 2 output: B', 2)), ['', 'B']);
  });

  void it('does not take words that merely contain "task" for markers', () => {
    const text = 'Task 1 output and task 2 input: the SubTask 3 output: is fine\nTask 2 output: B';
    assert.deepEqual(outputsOf(splitStepOutputs(text, 2)), ['the SubTask 3 output: is fine', 'B']);
  });

  void it('accepts text before the first marker only when asked', () => {
    const text = 'Sure! Here you go.\nTask 1 output and task 2 input: A\nTask 2 output: B';
    const error = errorOf(splitStepOutputs(text, 2));
    assert.equal(error.code, 'text-before-first-marker');
    assert.match(error.message, /Sure! Here you go\./);
    assert.deepEqual(outputsOf(splitStepOutputs(text, 2, { allowPreamble: true })), ['A', 'B']);
  });
});

void describe('step markers: errors name the marker and its offset', () => {
  void it('no markers at all', () => {
    const error = errorOf(splitStepOutputs('The answer is 42.', 2));
    assert.equal(error.code, 'no-markers');
    assert.match(error.message, /Task 1 output and task 2 input:.*Task 2 output:/);
  });

  void it('a missing final marker', () => {
    const text = 'Task 1 output and task 2 input: A and B';
    const error = errorOf(splitStepOutputs(text, 2));
    assert.equal(error.code, 'missing-marker');
    assert.equal(error.step, 2);
    assert.equal(error.offset, text.length);
    assert.match(error.message, /No marker for task 2: expected 'Task 2 output:'/);
  });

  void it('a missing middle marker', () => {
    const text = 'Task 1 output and task 2 input: A\nTask 3 output: C';
    const error = errorOf(splitStepOutputs(text, 3));
    assert.equal(error.code, 'missing-marker');
    assert.equal(error.step, 2);
    assert.equal(error.offset, text.indexOf('Task 3'));
    assert.match(error.message, /No marker for task 2: expected 'Task 2 output and task 3 input:' before 'Task 3 output:' \(offset 34\)/);
  });

  void it('a duplicated marker', () => {
    const text = 'Task 1 output and task 2 input: A\nTask 1 output and task 2 input: A again\nTask 2 output: B';
    const error = errorOf(splitStepOutputs(text, 2));
    assert.equal(error.code, 'duplicate-marker');
    assert.equal(error.offset, text.indexOf('Task 1', 1));
    assert.match(error.message, /task 1 appears twice: .*\(offset 0\) and .*\(offset 34\)/);
  });

  void it('markers out of order', () => {
    const text = 'Task 2 output: B\nTask 1 output and task 2 input: A';
    const error = errorOf(splitStepOutputs(text, 2));
    assert.equal(error.code, 'out-of-order');
    assert.equal(error.offset, 0);
    assert.match(error.message, /task 2 .* comes before the marker for task 1/);
  });

  void it('a marker naming the wrong next task', () => {
    const error = errorOf(splitStepOutputs('Task 1 output and task 3 input: A\nTask 2 output: B', 2));
    assert.equal(error.code, 'inconsistent-marker');
    assert.match(error.message, /task 1's output is task 3's input; expected task 2/);
  });

  void it('a marker beyond the chain length', () => {
    const error = errorOf(splitStepOutputs('Task 1 output and task 2 input: A\nTask 2 output and task 3 input: B\nTask 3 output: C', 2));
    assert.equal(error.code, 'unexpected-marker');
    assert.match(error.message, /announces task 3, but the chain has 2 steps/);
    const beyond = errorOf(splitStepOutputs('Task 1 output and task 2 input: A\nTask 2 output: B\nTask 3 output: C', 2));
    assert.equal(beyond.code, 'unexpected-marker');
    assert.match(beyond.message, /names task 3, but the chain has 2 steps/);
  });

  void it('a step count below one', () => {
    assert.equal(errorOf(splitStepOutputs('x', 0)).code, 'bad-step-count');
  });
});

void describe('step markers: writing', () => {
  void it('writes canonical markers, one step per line', () => {
    assert.equal(joinStepOutputs(['a', 'b', 'c']), 'Task 1 output and task 2 input: a\nTask 2 output and task 3 input: b\nTask 3 output: c');
    assert.equal(canonicalMarker(2, 2), 'Task 2 output:');
    assert.equal(joinStepOutputs(['', 'b']), 'Task 1 output and task 2 input:\nTask 2 output: b');
  });

  void it('reproduces any accepted text byte for byte with its layout', () => {
    const texts = [
      'Task 1 output and task 2 input: A  Task2 output: B',
      'preamble\n**Task 1 output:** A \n\n task 2 OUTPUT : B\n',
      '  lonely answer  ',
    ];
    for (const text of texts) {
      const split = splitStepOutputs(text, text.includes('Task') || text.includes('task') ? 2 : 1, { allowPreamble: true });
      assert.ok(split.ok);
      assert.equal(joinWithLayout(split.outputs, split.layout), text);
    }
  });

  void it('normalizes to the canonical form', () => {
    assert.equal(normalizeMarkedOutput('Task 1 output and task 2 input: A  Task2 output: B', 2), 'Task 1 output and task 2 input: A\nTask 2 output: B');
    assert.equal(normalizeMarkedOutput('nothing', 2), undefined);
  });

  void it('finds markers with their numbers', () => {
    const markers = findMarkers('Task 1 output and task 2 input: A  Task2 output: B');
    assert.deepEqual(
      markers.map((m) => [m.step, m.nextStep, m.raw, m.start]),
      [
        [1, 2, 'Task 1 output and task 2 input:', 0],
        [2, undefined, 'Task2 output:', 35],
      ],
    );
  });
});

void describe('step markers: properties', () => {
  // Outputs that cannot contain a marker themselves, trimmed like the reader trims them.
  const output = fc.string({ maxLength: 40 }).map((s) => s.replace(/task/gi, 'job').trim());
  const separator = fc.constantFrom('\n', '  ', ' \n', '\n\n', '');
  // How a marker is written: `Task N output`, and ` and task M input` unless last, then `:`.
  const spelling = fc.constantFrom(
    (n: number, last: boolean) => `Task ${n} output${last ? '' : ` and task ${n + 1} input`}:`,
    (n: number, last: boolean) => `Task${n} output${last ? '' : ` and task${n + 1} input`}:`,
    (n: number, last: boolean) => `task ${n} OUTPUT${last ? '' : ` AND TASK ${n + 1} INPUT`} :`,
    (n: number, last: boolean) => `**Task ${n} output${last ? '' : ` and task ${n + 1} input`}:**`,
    (n: number, last: boolean) => `**Task ${n} output${last ? '' : ` and task ${n + 1} input`}**:`,
  );

  void it('split(join(outputs)) === outputs, with canonical markers', () => {
    fc.assert(
      fc.property(fc.array(output, { minLength: 1, maxLength: 5 }), (outputs) => {
        const split = splitStepOutputs(joinStepOutputs(outputs), outputs.length);
        assert.ok(split.ok);
        assert.deepEqual(split.outputs, outputs);
      }),
    );
  });

  void it('any spelling and separator of the data splits to the same outputs and joins back byte for byte', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(output, spelling, separator), { minLength: 2, maxLength: 4 }), (steps) => {
        const text = steps
          .map(([o, s, sep], i) => {
            const marker = s(i + 1, i === steps.length - 1);
            // An empty separator needs a non-word character before the next marker.
            return `${marker} ${o}${sep === '' ? '.' : sep}`;
          })
          .join('');
        const split = splitStepOutputs(text, steps.length);
        assert.ok(split.ok, split.ok ? '' : split.error.message);
        assert.equal(joinWithLayout(split.outputs, split.layout), text);
      }),
    );
  });

  void it('never throws on arbitrary text, and every error offset lies in the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 0, max: 6 }), (text, steps) => {
        const split = splitStepOutputs(text, steps, { allowPreamble: true });
        if (split.ok) assert.equal(joinWithLayout(split.outputs, split.layout), text);
        else assert.ok(split.error.offset >= 0 && split.error.offset <= text.length);
      }),
    );
  });
});
