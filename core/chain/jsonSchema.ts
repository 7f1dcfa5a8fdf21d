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
 * output (untrusted text): each test is bounded (core/chain/boundedRegex.ts), and a pattern
 * stopped at the limit ends the validation with a problem naming it, not a hang.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import type { RE2JS as RE2JSClass } from 're2js' with { 'resolution-mode': 'import' };
import { PATTERN_TIME_LIMIT_TEXT, SLOW_PATTERN_ADVICE, testBounded } from './boundedRegex';
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

/** A native pattern that ran past the time limit on `text` (thrown through Ajv's validate, which it ends). */
class PatternStopped extends Error {
  constructor(
    readonly pattern: string,
    readonly text: string,
  ) {
    super(`the pattern ${JSON.stringify(pattern)} took longer than ${PATTERN_TIME_LIMIT_TEXT} on ${excerpt(text)} and was stopped: ${SLOW_PATTERN_ADVICE}`);
  }
}

/** Enough of a value to find it in the output (JSON-quoted: a model's text may hold anything). */
function excerpt(text: string): string {
  const shown = 40;
  return text.length <= shown ? JSON.stringify(text) : `${JSON.stringify(headOf(text, shown))}…`;
}

/**
 * A pattern as JavaScript runs it, bounded in time. Ajv keeps one compiled pattern per
 * `toString()`, so it is the RegExp's. Every other value of it would be tested too, each for up
 * to the limit: the first one stopped ends the validation.
 */
function boundedPattern(pattern: string, flags: string): { test(text: string): boolean; toString(): string } {
  const compiled = new RegExp(pattern, flags);
  return {
    test(text: string): boolean {
      const verdict = testBounded(compiled, text);
      if (verdict === 'timed out') throw new PatternStopped(pattern, text);
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
  try {
    return validate(value) ? undefined : { errors: ajv.errorsText(validate.errors, { dataVar }) };
  } catch (error) {
    if (error instanceof PatternStopped) return { errors: error.message };
    throw error;
  }
}

/** Why `value` does not satisfy `schema` (the runner's words), or undefined when it does or there is no schema. */
export function validateJsonValue(value: unknown, schema: unknown): string | undefined {
  if (schema === undefined) return undefined;
  const problem = checkJsonSchema(value, schema);
  if (problem === undefined) return undefined;
  return 'schema' in problem ? `the JSON Schema itself is invalid (${problem.schema})` : `the JSON does not match the schema: ${problem.errors}`;
}
