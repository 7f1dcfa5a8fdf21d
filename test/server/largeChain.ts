/** A large, realistic chain for the burst test and the server benchmark. */

const INSTRUCTIONS = [
  'Summarize the text in at most two sentences.\n    Keep the names, places and numbers that matter.',
  'Rewrite the text in a friendly, informal tone. Keep every fact.',
  'Extract the names of the people mentioned in the text, one per line.',
  'Correct the grammar and spelling of the text. Change nothing else.',
  'Paraphrase the text so that a ten-year-old can understand it.',
  'Write a title for the text of at most eight words.',
];

/** About `lines` lines: a model, two inputs, steps of ~8 lines each, and tests every 25 steps. */
export function largeChain(lines: number): string {
  const out: string[] = [
    '# A long generated chain (benchmarks and burst tests).',
    'chain long_chain',
    'description "A very long chain of text rewriting steps."',
    '',
    'model local {',
    '  provider local',
    '  path "models/tiny.gguf"',
    '  temperature 0',
    '}',
    '',
    'input article: text lang=en',
    '',
  ];
  let i = 0;
  while (out.length < lines - 12) {
    i++;
    out.push(`step step${i} {`, '  instruction """', `    ${INSTRUCTIONS[i % INSTRUCTIONS.length] ?? ''}`, '  """');
    if (i % 7 === 0) out.push(`  model local`);
    out.push(`  output text max_words=${40 + (i % 50)}`, '}', '');
    if (i % 25 === 0) {
      out.push(`test "test ${i}" {`, '  given article = """', '    Heavy rain is expected on Tuesday in the north.', '  """', `  expect step${i} not contains "As an AI"`, '}', '');
    }
  }
  out.push('test "last" {', '  given article = "Rain."', `  expect step${i} contains "rain"`, '  expect output matches \'^[A-Z]\'', '}', '');
  return out.join('\n');
}
