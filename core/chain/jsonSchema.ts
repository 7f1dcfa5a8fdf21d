/**
 * The one JSON Schema validator of CoI Studio (Ajv): the checker validates schemas and the
 * values tests give to `json` inputs with it, the runner validates inputs and outputs and the
 * backends check constrained outputs — so the editor reports what a run would refuse.
 *
 * Patterns (`pattern`, `patternProperties`, `propertyNames`) come from the file: JavaScript's
 * backtracking engine can take exponential time on one (`^(a|a)+$` against 40 characters runs
 * for minutes), and the language server checks whatever file is opened, a cloned repository's
 * in Restricted Mode included. So the check (`'linear'`) runs them with RE2's linear-time engine
 * (re2js); a pattern RE2 does not take (a lookaround, a backreference) is not run there, and the
 * run decides. Runs (`'native'`) use JavaScript's engine, as JSON Schema specifies, on a model's
 * output (untrusted text): each test is bounded (core/chain/boundedRegex.ts), and so are one
 * validation's tests together; a pattern stopped at the limit ends the validation with a
 * problem naming it, not a hang.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import type { RE2JS as RE2JSClass } from 're2js' with { 'resolution-mode': 'import' };
import { PATTERN_TIME_LIMIT_MS, PATTERN_TIME_LIMIT_TEXT, SLOW_PATTERN_ADVICE, testBounded } from './boundedRegex';
import { headOf } from '../syntax/characters';
import { schemaDepthProblem } from './schemaDepth';

/** Which regular expression engine runs a schema's patterns (see above). */
export type PatternEngine = 'native' | 'linear';

/** Compiled validators kept (per schema text); past this the cache and Ajv's own start over. */
const MAX_VALIDATORS = 500;

const instances = new Map<PatternEngine, { ajv: Ajv; validators: Map<string, ValidateFunction> }>();

/** re2js, through the CommonJS build it ships beside its ES module (whose types it declares). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RE2JS } = require('re2js') as { RE2JS: typeof RE2JSClass };

/** A pattern as RE2 runs it (linear time); one RE2 does not take matches everything: not checked here. */
function linearPattern(pattern: string): { test(text: string): boolean } {
  try {
    return RE2JS.compile(pattern);
  } catch {
    return { test: () => true };
  }
}

/**
 * The time a validation's pattern tests may take together. Each test alone is bounded, but a
 * model's output can hold hundreds of values that each take just under the limit (a list of
 * strings, each `a` × 24 and a `b`, against `^(a|a)+$`: a quarter of a second each), minutes in
 * all, synchronously. So a validation's tests may take the limit, plus a millisecond for each
 * value tested: time an output's size pays for. Ordinary patterns take a fraction of a
 * millisecond a value (the watchdog's start included), so the values tested quickly leave room
 * for those the machine's load slows (a busy machine stretches some tests to milliseconds: a
 * budget of each test's own excess stopped 9,000 ordinary values so), and one whose values are
 * made to backtrack takes at most a millisecond a value more than the limit.
 * Set around each `validate` call by `checkJsonSchema` (validation is synchronous: one at a time).
 */
interface PatternBudget {
  /** Milliseconds the tests may still take: the limit, plus ALLOWANCE_PER_VALUE_MS a test, less what they took. */
  left: number;
  /** Milliseconds each pattern took so far, on how many values, and its last one: to name the pattern that spent the time. */
  readonly spent: Map<string, { ms: number; values: number; last: string }>;
}

/** What each value tested adds to the validation's budget. */
const ALLOWANCE_PER_VALUE_MS = 1;

let budget: PatternBudget | undefined;

/** A native pattern stopped at the limit (thrown through Ajv's validate, which it ends). */
class PatternStopped extends Error {}

/** Why the validation was stopped: the pattern stopped on one value, or the one that took most of the time of all. */
function stoppedMessage(pattern: string, text: string, alone: boolean): string {
  if (alone || budget === undefined) return `the pattern ${JSON.stringify(pattern)} took longer than ${PATTERN_TIME_LIMIT_TEXT} on ${excerpt(text)} and was stopped: ${SLOW_PATTERN_ADVICE}`;
  const [slowest, spent] = [...budget.spent].reduce((a, b) => (b[1].ms > a[1].ms ? b : a));
  const values = `${spent.values} value${spent.values === 1 ? '' : 's'}`;
  return `the patterns took over ${PATTERN_TIME_LIMIT_TEXT} in all on this output's values and were stopped, ${JSON.stringify(slowest)} taking ${Math.round(spent.ms)} ms on ${values} (the last: ${excerpt(spent.last)}): ${SLOW_PATTERN_ADVICE}`;
}

/** Enough of a value to find it in the output (JSON-quoted: a model's text may hold anything). */
function excerpt(text: string): string {
  const shown = 40;
  return text.length <= shown ? JSON.stringify(text) : `${JSON.stringify(headOf(text, shown))}…`;
}

/**
 * A pattern as JavaScript runs it, bounded in time: each test by the limit, and a validation's
 * tests together (PatternBudget). Ajv keeps one compiled pattern per
 * `toString()`, so it is the RegExp's. The first test stopped ends the validation.
 */
function boundedPattern(pattern: string, flags: string): { test(text: string): boolean; toString(): string } {
  const compiled = new RegExp(pattern, flags);
  return {
    test(text: string): boolean {
      const started = performance.now();
      if (budget !== undefined) budget.left += ALLOWANCE_PER_VALUE_MS;
      const limit = budget === undefined ? PATTERN_TIME_LIMIT_MS : Math.min(PATTERN_TIME_LIMIT_MS, Math.floor(budget.left));
      // The budget spent (a test can end a little past its limit): stopped without running.
      const verdict = limit < 1 ? 'timed out' : testBounded(compiled, text, limit);
      if (budget !== undefined) {
        const ms = performance.now() - started;
        budget.left -= ms;
        const spent = budget.spent.get(pattern) ?? { ms: 0, values: 0, last: text };
        spent.ms += ms;
        spent.values++;
        spent.last = text;
        budget.spent.set(pattern, spent);
      }
      if (verdict === 'timed out') throw new PatternStopped(stoppedMessage(pattern, text, limit === PATTERN_TIME_LIMIT_MS));
      return verdict === 'matched';
    },
    toString: () => compiled.toString(),
  };
}

function instance(engine: PatternEngine): { ajv: Ajv; validators: Map<string, ValidateFunction> } {
  let found = instances.get(engine);
  if (found === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false, code: { regExp: (engine === 'linear' ? linearPattern : boundedPattern) as never } });
    found = { ajv, validators: new Map() };
    instances.set(engine, found);
  }
  return found;
}

/**
 * The shared Ajv instance (JavaScript's patterns: used to check schemas, which compiles
 * patterns but runs none). `addUsedSchema: false` so a schema with an `$id` can be compiled
 * again (e.g. after its file was edited); `strict: false` as schemas in the wild use unknown
 * keywords and formats.
 */
export function schemaAjv(): Ajv {
  return instance('native').ajv;
}

/**
 * Checks `value` against a JSON Schema: `schema` when the schema itself does not
 * compile, `errors` when the value does not match (the value called `dataVar` in
 * them: `data/name must be string`). Validators are kept per schema
 * text, since schema files are read afresh for every step and editors re-check on
 * every keystroke (bounded: an edited schema leaves its old versions behind).
 */
export function checkJsonSchema(value: unknown, schema: unknown, dataVar = 'data', engine: PatternEngine = 'native'): { readonly schema: string } | { readonly errors: string } | undefined {
  // Ajv compiles recursively: a schema nested thousands of levels deep overflows the stack.
  const tooDeep = schemaDepthProblem(schema);
  if (tooDeep !== undefined) return { schema: tooDeep };
  const key = JSON.stringify(schema);
  let { ajv, validators } = instance(engine);
  let validate = validators.get(key);
  if (validate === undefined) {
    if (validators.size >= MAX_VALIDATORS) {
      instances.delete(engine); // Ajv keeps every schema object it compiled: start a fresh one.
      ({ ajv, validators } = instance(engine));
    }
    try {
      validate = ajv.compile(schema as object);
    } catch (error) {
      return { schema: (error as Error).message };
    }
    validators.set(key, validate);
  }
  budget = { left: PATTERN_TIME_LIMIT_MS, spent: new Map() };
  try {
    return validate(value) ? undefined : { errors: ajv.errorsText(validate.errors, { dataVar }) };
  } catch (error) {
    if (error instanceof PatternStopped) return { errors: error.message };
    throw error;
  } finally {
    budget = undefined;
  }
}

/** Why `value` does not satisfy `schema` (the runner's words), or undefined when it does or there is no schema. */
export function validateJsonValue(value: unknown, schema: unknown): string | undefined {
  if (schema === undefined) return undefined;
  const problem = checkJsonSchema(value, schema);
  if (problem === undefined) return undefined;
  return 'schema' in problem ? `the JSON Schema itself is invalid (${problem.schema})` : `the JSON does not match the schema: ${problem.errors}`;
}
