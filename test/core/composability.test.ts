/**
 * The composability analysis on chains: where diagnostics go, what they say,
 * how declarations override the wording, and how each warning kind is turned
 * off (the language server maps user settings onto these options).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDocument } from '../../core/check';
import { analyzeEdge } from '../../core/composability';
import type { Diagnostic } from '../../core/syntax/ast';

function composability(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.code.startsWith('COI3'));
}

const LABEL_INTO_SUMMARY = `chain c
input review: text
step sentiment {
  instruction "Determine whether the review is positive or negative."
  output label [positive, negative]
}
step summary {
  instruction "Summarize the text in two sentences."
  output text
}
`;

void test('a label feeding a summarizer is an error on the consumer, naming both steps', () => {
  const [d, ...rest] = composability(checkDocument(LABEL_INTO_SUMMARY).diagnostics);
  assert.deepEqual(rest, []);
  assert.equal(d?.code, 'COI301');
  assert.equal(d?.severity, 'error');
  assert.equal(d?.message, 'Step "sentiment" produces a label (one of positive, negative) but step "summary" needs a passage to summarize.');
  // Default binding: on the consumer's header; related: the producer's header.
  assert.equal(LABEL_INTO_SUMMARY.slice(d!.span.start, d!.span.end), 'step summary');
  assert.equal(LABEL_INTO_SUMMARY.slice(d!.related![0]!.span.start, d!.related![0]!.span.end), 'step sentiment');
  assert.deepEqual(d?.data, { kind: 'passage-needed', producer: 'sentiment', consumer: 'summary', produces: 'label', needs: 'passage', consumerCategory: 'summarization' });
});

void test('with an explicit from, the diagnostic sits on the reference', () => {
  const text = LABEL_INTO_SUMMARY.replace('  output text\n}', '  from sentiment\n  output text\n}');
  const [d] = composability(checkDocument(text).diagnostics);
  assert.equal(d?.code, 'COI301');
  assert.equal(text.slice(d!.span.start, d!.span.end), 'sentiment');
  assert.ok(d!.span.start > text.indexOf('from sentiment'));
});

void test('a classifier as the last step is fine; generation then classification is the common CoI shape', () => {
  const text = `chain c
input story: text
step ending {
  instruction "Complete the story by predicting the appropriate last sentence."
}
step irony {
  instruction "Determine if the last sentence of the story is ironic or not based on the given definition of irony."
}
`;
  assert.deepEqual(composability(checkDocument(text).diagnostics), []);
});

void test('a label used beside the passage it describes is not an error, only a warning that the classifier is not last', () => {
  const text = `chain c
input review: text
step sentiment {
  instruction "Classify the sentiment of the review."
  output label [positive, negative]
}
step reply {
  instruction "Rewrite the review as a reply that matches its sentiment."
  from review, sentiment
  output text
}
`;
  assert.deepEqual(
    composability(checkDocument(text).diagnostics).map((d) => [d.code, d.severity]),
    [['COI305', 'warning']],
  );
});

void test('declarations override inference: contract, task, needs', () => {
  const worded = `chain c
input review: text
step verdict {
  instruction "Determine whether the review is positive, and explain why."
  output text
}
step summary {
  instruction "Summarize the explanation."
}
`;
  assert.deepEqual(composability(checkDocument(worded).diagnostics), [], 'an output text contract makes the classifier-worded step produce text');
  const task = worded.replace('  instruction "Summarize the explanation."', '  instruction "Summarize the explanation."\n  needs label');
  assert.deepEqual(composability(checkDocument(task).diagnostics), []);
  const declaredSummary = `chain c
input r: text
step g {
  instruction "Write one word about the text."
  output label [good, bad]
}
step h {
  instruction "Go on."
  task summarization
}
`;
  assert.deepEqual(
    composability(checkDocument(declaredSummary).diagnostics).map((d) => d.code),
    ['COI301'],
  );
});

void test('language: translating into French and then reading English is a warning', () => {
  const text = `chain c
input article: text lang=en
step french {
  instruction "Translate the article into French."
}
step fix {
  instruction "Correct the grammar of the English text."
}
`;
  const [d] = composability(checkDocument(text).diagnostics);
  assert.equal(d?.code, 'COI302');
  assert.equal(d?.severity, 'warning');
  assert.equal(d?.message, 'Step "french" produces French text but step "fix" expects English.');
  assert.equal(d?.data?.producedLanguage, 'fr');
  assert.equal(d?.data?.expectedLanguage, 'en');
});

void test('the language of a chain input is checked against what the first step expects', () => {
  const text = 'chain c\ninput article: text lang=de\nstep t {\n  instruction "Translate the English text into Spanish."\n}\n';
  assert.deepEqual(
    composability(checkDocument(text).diagnostics).map((d) => d.message),
    ['Input "article" is German text but step "t" expects English.'],
  );
});

const EVERY_WARNING = `chain c
input people: list
step one {
  instruction "Classify the sentiment of the sentence."
  output label [positive, negative]
}
step two {
  instruction "Write a poem about the label."
}
step french {
  instruction "Translate the poem into French."
}
step english {
  instruction "Paraphrase the English text as a JSON object."
  output json
}
step tone {
  instruction "Rewrite the text in a friendly tone."
}
step sql {
  instruction "Fix the SQL query."
  needs code
}
`;

void test('every warning kind can be switched off; errors stay', () => {
  const all = composability(checkDocument(EVERY_WARNING).diagnostics).map((d) => d.code);
  assert.deepEqual(all, ['COI303', 'COI305', 'COI302', 'COI304', 'COI306']);
  const off = (warnings: Record<string, boolean>): string[] =>
    composability(checkDocument(EVERY_WARNING, { composability: { warnings } }).diagnostics).map((d) => d.code);
  assert.deepEqual(off({ listToItem: false }), ['COI305', 'COI302', 'COI304', 'COI306']);
  assert.deepEqual(off({ classificationNotLast: false }), ['COI303', 'COI302', 'COI304', 'COI306']);
  assert.deepEqual(off({ languageMismatch: false }), ['COI303', 'COI305', 'COI304', 'COI306']);
  assert.deepEqual(off({ jsonToText: false }), ['COI303', 'COI305', 'COI302', 'COI306']);
  assert.deepEqual(off({ structuredInput: false }), ['COI303', 'COI305', 'COI302', 'COI304']);
  assert.deepEqual(composability(checkDocument(EVERY_WARNING, { composability: { enable: false } }).diagnostics), []);
  const errors = checkDocument(LABEL_INTO_SUMMARY, {
    composability: { warnings: { languageMismatch: false, listToItem: false, jsonToText: false, classificationNotLast: false, structuredInput: false } },
  });
  assert.deepEqual(composability(errors.diagnostics).map((d) => d.code), ['COI301']);
});

void test('analyzeEdge works on plain instruction pairs (the paper records have no contracts)', () => {
  const ok = analyzeEdge('Summarize the article in one sentence.', 'Translate the summary into French.');
  assert.equal(ok.producer.category, 'summarization');
  assert.equal(ok.consumer.category, 'translation');
  assert.equal(ok.consumer.outputLanguage, 'fr');
  assert.deepEqual(ok.findings, []);
  const broken = analyzeEdge('Determine if the comment is toxic or not.', 'Summarize the comment in one sentence.');
  assert.deepEqual(
    broken.findings.map((f) => [f.code, f.message]),
    [['COI301', 'Step 1 produces a yes/no answer (classification) but step 2 needs a passage to summarize.']],
  );
  const counted = analyzeEdge('Count the number of nouns in the sentence.', 'Paraphrase the sentence.');
  assert.deepEqual(counted.findings.map((f) => f.code), ['COI301']);
  const listed = analyzeEdge('Extract RDF triplets from the given sentence.', 'Classify the sentiment of the sentence.');
  assert.deepEqual(listed.findings.map((f) => f.code), ['COI303']);
});
