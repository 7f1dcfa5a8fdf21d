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
 * run decides. Runs (`'native'`) use JavaScript's engine, as JSON Schema specifies: a run is
 * started by the user, in a trusted workspace.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import type { RE2JS as RE2JSClass } from 're2js' with { 'resolution-mode': 'import' };
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

function instance(engine: PatternEngine): { ajv: Ajv; validators: Map<string, ValidateFunction> } {
  let found = instances.get(engine);
  if (found === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false, ...(engine === 'linear' ? { code: { regExp: linearPattern as never } } : {}) });
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
  return validate(value) ? undefined : { errors: ajv.errorsText(validate.errors, { dataVar }) };
}

/** Why `value` does not satisfy `schema` (the runner's words), or undefined when it does or there is no schema. */
export function validateJsonValue(value: unknown, schema: unknown): string | undefined {
  if (schema === undefined) return undefined;
  const problem = checkJsonSchema(value, schema);
  if (problem === undefined) return undefined;
  return 'schema' in problem ? `the JSON Schema itself is invalid (${problem.schema})` : `the JSON does not match the schema: ${problem.errors}`;
}
