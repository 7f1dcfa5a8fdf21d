/**
 * Syntax benchmarks: lex, parse, tokenize and format a 5,000-step chain
 * (about 70,000 lines, text blocks, comments, lists, options and tests).
 * Target: parse well under 50 ms (median).
 */
import { lex } from '../../core/syntax/lexer';
import { indexSymbols } from '../../core/language/symbols';
import { semanticTokens } from '../../core/language/semanticTokens';
import { parse } from '../../core/syntax/parser';
import { format } from '../../core/syntax/formatter';
import { formatSummary, timeRepeated } from './stats';

/** A large valid chain: `steps` steps, each with a text block, a binding, a contract and overrides. */
export function makeLargeChain(steps: number): string {
  const parts: string[] = ['# A generated chain for benchmarks.\nchain large_chain\ndescription """\n  Many steps.\n"""\n\nmodel local {\n  provider local\n  path "model.gguf"\n  temperature 0\n}\n\ninput article: text lang=en\n'];
  for (let i = 0; i < steps; i++) {
    const from = i === 0 ? 'article' : `s${i - 1}`;
    parts.push(
      `\n# Step ${i}: rewrite the previous text.\nstep s${i} {\n  instruction """\n    Rewrite the text in a simpler style (pass ${i}).\n    Keep every name and number as written.\n  """\n  from ${from}\n  output text lang=en max_words=120 # bounded\n  temperature 0.7\n  stop ["\\n\\n", "###"]\n}\n`,
    );
  }
  parts.push(`\ntest "smoke" {\n  given article = "A short article."\n  expect s${steps - 1} not contains "As an AI"\n  expect output rouge_l >= 0.3 """reference"""\n}\n`);
  return parts.join('');
}

export async function run(): Promise<void> {
  const text = makeLargeChain(5000);
  const lines = text.split('\n').length;
  console.log(`input: 5000 steps, ${lines} lines, ${(text.length / 1024).toFixed(0)} KiB`);
  const diagnostics = parse(text).diagnostics.length;
  if (diagnostics !== 0) throw new Error(`the generated chain has ${diagnostics} syntax diagnostics`);
  const lexing = await timeRepeated(() => lex(text), 30);
  const parsing = await timeRepeated(() => parse(text), 30);
  const tree = parse(text).file;
  const classifying = await timeRepeated(() => semanticTokens(tree, indexSymbols(tree)), 10);
  const formatting = await timeRepeated(() => format(text), 10);
  console.log(formatSummary('lex', lexing));
  console.log(formatSummary('parse (lex included)', parsing));
  console.log(formatSummary('semantic tokens (symbol index included)', classifying));
  console.log(formatSummary('format (parse, print, re-parse check)', formatting));
  console.log(`parse throughput: ${(lines / parsing.medianMs).toFixed(0)} lines/ms; lex share of parse: ${((lexing.medianMs / parsing.medianMs) * 100).toFixed(0)}%`);
}
