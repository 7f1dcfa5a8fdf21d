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

/** How many problems of each severity a generated chain has. */
export interface ProblemCounts {
  readonly error: number;
  readonly warning: number;
  readonly info: number;
  readonly hint: number;
}

/**
 * A chain with a problem on each of its `lines` lines, five kinds in turn, from every stage
 * of the check: `@@` (lexer, COI101), `stpe` (parser, COI107), an unmatched `}` (COI109), a
 * model without its path (profiles, COI503), an input of an unknown kind (contracts, COI211).
 * One error a line; each input is also unread (COI207, a warning), as is the first input
 * `text`, and the chain has no steps (COI222, a warning). `syntaxOnly`: the first three kinds
 * only, lines the parser skips, so the syntax tree stays empty however long the file is.
 */
export function problemChain(lines: number, options: { syntaxOnly?: boolean } = {}): { text: string; counts: ProblemCounts } {
  const kinds = options.syntaxOnly ? 3 : 5;
  const out = ['chain flood', 'input text: text'];
  let inputs = 0;
  for (let i = 0; i < lines; i++) {
    switch (i % kinds) {
      case 0:
        out.push(`@@ junk ${i}`);
        break;
      case 1:
        out.push(`stpe s${i} {}`);
        break;
      case 2:
        out.push('}');
        break;
      case 3:
        out.push(`model m${i} { provider local }`);
        break;
      default:
        out.push(`input in${i}: txet`);
        inputs++;
    }
  }
  return { text: out.join('\n') + '\n', counts: { error: lines, warning: inputs + 2, info: 0, hint: 0 } };
}
