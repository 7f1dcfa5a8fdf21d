/**
 * "Can this chain run?" (core/check/runnable.ts): the decision `coi run`/`coi test` and
 * the editor's Run Chain / Testing view share. The editor used to check with
 * composability off and ran chains (COI301) that the CLI refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkForRun } from '../../core/check/runnable';

const HEADER = 'chain c\ninput review: text\n';
const LABEL_THEN_SUMMARY = `${HEADER}
step sentiment {
  instruction "Determine whether the review is positive or negative."
  output label [positive, negative]
}

step summary {
  instruction "Summarize the text in two sentences."
  output text
}
`;
const SUMMARY_THEN_LABEL = `${HEADER}
step summary {
  instruction "Summarize the review in two sentences."
  output text
}

step sentiment {
  instruction "Determine whether the summary is positive or negative."
  output label [positive, negative]
}
`;
const UNKNOWN_REFERENCE = `${HEADER}
step summary {
  instruction "Summarize the review."
  from nowhere
}
`;

const cases: { name: string; text: string; blocking: string[] }[] = [
  { name: 'a label feeding a step that needs a passage (COI301) cannot run', text: LABEL_THEN_SUMMARY, blocking: ['COI301'] },
  { name: 'a structural error cannot run', text: UNKNOWN_REFERENCE, blocking: ['COI205'] },
  { name: 'a chain that composes can run', text: SUMMARY_THEN_LABEL, blocking: [] },
];

for (const { name, text, blocking } of cases) {
  void test(name, () => {
    const checked = checkForRun(text);
    assert.deepEqual(checked.blocking.map((d) => d.code), blocking);
    assert.ok(checked.blocking.every((d) => d.severity === 'error'));
    assert.deepEqual(checked.chain.steps.map((s) => s.id), text === UNKNOWN_REFERENCE ? ['summary'] : text === LABEL_THEN_SUMMARY ? ['sentiment', 'summary'] : ['summary', 'sentiment']);
  });
}

void test('warnings never stop a run', () => {
  // A translation into the language the text is already in is a COI302 warning.
  const text = `chain c\ninput review: text lang=fr\n\nstep french {\n  instruction "Translate the review into French."\n}\n`;
  const checked = checkForRun(text);
  assert.ok(checked.diagnostics.some((d) => d.severity === 'warning'), JSON.stringify(checked.diagnostics.map((d) => d.code)));
  assert.deepEqual(checked.blocking, []);
});
