/**
 * Checker benchmark: parse + full check (structure, composability, tests,
 * profiles) of a generated 5,000-step chain (multi-line instructions, every
 * contract kind, explicit bindings, inline JSON schemas, 500 tests), and, in
 * the same run, `yaml` parsing the same content written as YAML.
 * Targets: full check ≤ YAML parse, and < 150 ms (median).
 * Then a file with a problem on each of 200,000 lines (about 3.5 MB): core keeps 1,000 of
 * them, so its check costs about what a clean file of that size does (before the cap, and
 * with 40,000 inputs searched per input, it took seconds).
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { checkDocument } from '../../core/check';
import { clearInstructionCache } from '../../core/composability/infer';
import { totalOf } from '../../core/diagnostics';
import { problemChain } from '../server/largeChain';
import { formatSummary, summarize } from './stats';

function timed(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

interface StepData {
  readonly id: string;
  readonly instruction: string;
  readonly from?: readonly string[];
  readonly output: { readonly kind: string; readonly options: Record<string, string | number | boolean>; readonly labels?: readonly string[] };
  readonly temperature?: number;
}

interface TestData {
  readonly name: string;
  readonly article: string;
  readonly expects: readonly { readonly target: string; readonly matcher: string; readonly value?: string; readonly threshold?: number }[];
}

const SCHEMA = '{"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}, "required": ["name"]}';

/** Step i of the generated chain: a rotation of realistic step shapes. */
function stepData(i: number): StepData {
  const id = `s${i}`;
  switch (i % 6) {
    case 0:
      return {
        id,
        instruction: `Summarize the text in at most three sentences (part ${i}).\nKeep every name, date and number as written.\nDo not add opinions.`,
        ...(i === 0 ? { from: ['article'] } : {}),
        output: { kind: 'text', options: { lang: 'en', max_words: 120 } },
        temperature: 0.2,
      };
    case 1:
      return {
        id,
        instruction: `Paraphrase the summary for a general audience (part ${i}).\nUse short sentences.`,
        output: { kind: 'text', options: { max_chars: 900 } },
      };
    case 2:
      return {
        id,
        instruction: `Extract the people mentioned in the paraphrase as a JSON object (part ${i}).\nUse the field names of the schema.`,
        output: { kind: 'json', options: { schema: SCHEMA } },
      };
    case 3:
      return {
        id,
        instruction: `Write a short description in natural language for the given JSON record (part ${i}).`,
        output: { kind: 'text', options: { lang: 'en' } },
      };
    case 4:
      return {
        id,
        instruction: `List the keywords of the description, one per line (part ${i}).`,
        from: [`s${i - 1}`, `s${i - 4}`],
        output: { kind: 'list', options: { item: 'text', max_items: 8 } },
      };
    default:
      return {
        id,
        instruction: `Write a paragraph that uses every keyword of the list (part ${i}).\nKeep it under eighty words.`,
        output: { kind: 'text', options: { max_words: 80 } },
        temperature: 0.7,
      };
  }
}

function testData(i: number, steps: number): TestData {
  return {
    name: `case ${i}`,
    article: `Article ${i}: heavy rain is expected across the north on Tuesday.\nSchools may close early.`,
    expects: [
      { target: `s${(i * 7) % steps}`, matcher: 'contains', value: 'rain' },
      { target: 'output', matcher: 'matches', value: '^[A-Z]' },
      { target: `s${i % 6 === 2 ? i : 2}`, matcher: 'valid_json' },
      { target: 'output', matcher: 'rouge_l', threshold: 0.3, value: `Rain in the north on Tuesday (${i}).` },
    ],
  };
}

function coiValue(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(value) ? value : `'${value}'`;
}

function block(text: string, indent: string): string {
  return `"""\n${text
    .split('\n')
    .map((line) => `${indent}  ${line}`)
    .join('\n')}\n${indent}"""`;
}

function toCoi(steps: readonly StepData[], tests: readonly TestData[]): string {
  const parts: string[] = [
    '# Generated for the checker benchmark.\nchain large_chain\ndescription """\n  A long chain.\n"""\n\nmodel local {\n  provider local\n  path "model.gguf"\n  temperature 0\n  max_tokens 256\n}\n\ninput article: text lang=en\n',
  ];
  for (const step of steps) {
    const options = Object.entries(step.output.options)
      .map(([k, v]) => `${k}=${coiValue(v)}`)
      .join(' ');
    const lines = [`\nstep ${step.id} {`, `  instruction ${block(step.instruction, '  ')}`];
    if (step.from) lines.push(`  from ${step.from.join(', ')}`);
    lines.push(`  output ${step.output.kind}${step.output.labels ? ` [${step.output.labels.join(', ')}]` : ''}${options ? ` ${options}` : ''}`);
    if (step.temperature !== undefined) lines.push(`  temperature ${step.temperature}`);
    lines.push('}\n');
    parts.push(lines.join('\n'));
  }
  for (const test of tests) {
    const lines = [`\ntest "${test.name}" {`, `  given article = ${block(test.article, '  ')}`];
    for (const e of test.expects) {
      const threshold = e.threshold !== undefined ? ` >= ${e.threshold}` : '';
      const value = e.value !== undefined ? ` ${e.matcher === 'matches' ? `'${e.value}'` : JSON.stringify(e.value)}` : '';
      lines.push(`  expect ${e.target} ${e.matcher}${threshold}${value}`);
    }
    lines.push('}\n');
    parts.push(lines.join('\n'));
  }
  return parts.join('');
}

function toYaml(steps: readonly StepData[], tests: readonly TestData[]): string {
  return stringifyYaml({
    chain: 'large_chain',
    description: 'A long chain.\n',
    models: { local: { provider: 'local', path: 'model.gguf', temperature: 0, max_tokens: 256 } },
    inputs: { article: { type: 'text', lang: 'en' } },
    steps: steps.map((s) => ({
      id: s.id,
      instruction: `${s.instruction}\n`,
      ...(s.from ? { from: s.from } : {}),
      output: { kind: s.output.kind, ...s.output.options },
      ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
    })),
    tests: tests.map((t) => ({ name: t.name, given: { article: `${t.article}\n` }, expect: t.expects })),
  });
}

export function makeCheckBenchInput(stepCount = 5000, testCount = 500): { coi: string; yaml: string } {
  const steps = Array.from({ length: stepCount }, (_, i) => stepData(i));
  const tests = Array.from({ length: testCount }, (_, i) => testData(i, stepCount));
  return { coi: toCoi(steps, tests), yaml: toYaml(steps, tests) };
}

export async function run(): Promise<void> {
  const { coi, yaml } = makeCheckBenchInput();
  const first = checkDocument(coi);
  const bySeverity = new Map<string, number>();
  for (const d of first.diagnostics) bySeverity.set(`${d.severity} ${d.code}`, (bySeverity.get(`${d.severity} ${d.code}`) ?? 0) + 1);
  console.log(
    `input: ${first.chain.steps.length} steps, ${first.chain.tests.length} tests, ${coi.split('\n').length} lines, ${(coi.length / 1024).toFixed(0)} KiB .coi / ${(yaml.length / 1024).toFixed(0)} KiB YAML`,
  );
  console.log(`diagnostics: ${[...bySeverity].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`);
  if (first.diagnostics.some((d) => d.severity === 'error')) throw new Error('the generated chain has errors');
  // Interleaved, so that both see the same machine state (other work on a shared machine).
  const checkTimes: number[] = [];
  const coldTimes: number[] = [];
  const yamlTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    checkDocument(coi);
    parseYaml(yaml);
  }
  // The order rotates so that no measurement always pays for the garbage of the one before.
  const measurements = [
    (): number => timed(() => checkDocument(coi)),
    (): number => timed(() => parseYaml(yaml)),
    // Cold: as for a file never seen before (the editor re-checks mostly unchanged instructions).
    (): number => {
      clearInstructionCache();
      return timed(() => checkDocument(coi));
    },
  ];
  const series = [checkTimes, yamlTimes, coldTimes];
  for (let i = 0; i < 27; i++) {
    for (let k = 0; k < 3; k++) {
      const which = (i + k) % 3;
      series[which]?.push(measurements[which]?.() ?? NaN);
    }
  }
  const check = summarize(checkTimes);
  const cold = summarize(coldTimes);
  const yamlParse = summarize(yamlTimes);
  console.log(formatSummary('parse + full check (.coi)', check));
  console.log(formatSummary('parse + full check, cold instruction cache', cold));
  console.log(formatSummary('yaml.parse (same content)', yamlParse));
  console.log(
    `ratio check/yaml: median ${(check.medianMs / yamlParse.medianMs).toFixed(2)} (cold ${(cold.medianMs / yamlParse.medianMs).toFixed(2)}), ` +
      `p95 ${(check.p95Ms / yamlParse.p95Ms).toFixed(2)} (targets: ≤ 1 and median < 150 ms: ${cold.medianMs <= yamlParse.medianMs && cold.medianMs < 150 ? 'met' : 'MISSED'})`,
  );
  runProblemFlood();
}

function runProblemFlood(): void {
  const { text } = problemChain(200_000);
  const first = checkDocument(text);
  console.log(`a problem on every line: ${(text.length / 1e6).toFixed(1)} MB, ${totalOf(first.counts)} problems, ${first.diagnostics.length} kept (with the COI000 note)`);
  const times = Array.from({ length: 7 }, () => timed(() => checkDocument(text)));
  console.log(formatSummary('parse + full check, a problem on every line', summarize(times)));
}
