/**
 * The one JSON Schema validator of CoI Studio (Ajv): the checker validates schemas and the
 * values tests give to `json` inputs with it, the runner validates inputs and outputs and the
 * backends check constrained outputs — so the editor reports exactly what a run would refuse.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { schemaDepthProblem } from './schemaDepth';

/** Compiled validators kept (per schema text); past this the cache and Ajv's own start over. */
const MAX_VALIDATORS = 500;

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/**
 * The shared Ajv instance. `addUsedSchema: false` so a schema with an `$id` can be compiled
 * again (e.g. after its file was edited); `strict: false` as schemas in the wild use unknown
 * keywords and formats.
 */
export function schemaAjv(): Ajv {
  ajv ??= new Ajv({ allErrors: true, strict: false, addUsedSchema: false });
  return ajv;
}

/**
 * Checks `value` against a JSON Schema: `schema` when the schema itself does not
 * compile, `errors` when the value does not match (the value called `dataVar` in
 * them: `data/name must be string`). Validators are kept per schema
 * text, since schema files are read afresh for every step and editors re-check on
 * every keystroke (bounded: an edited schema leaves its old versions behind).
 */
export function checkJsonSchema(value: unknown, schema: unknown, dataVar = 'data'): { readonly schema: string } | { readonly errors: string } | undefined {
  // Ajv compiles recursively: a schema nested thousands of levels deep overflows the stack.
  const tooDeep = schemaDepthProblem(schema);
  if (tooDeep !== undefined) return { schema: tooDeep };
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (validate === undefined) {
    if (validators.size >= MAX_VALIDATORS) {
      validators.clear();
      ajv = undefined; // Ajv keeps every schema object it compiled: start a fresh one.
    }
    try {
      validate = schemaAjv().compile(schema as object);
    } catch (error) {
      return { schema: (error as Error).message };
    }
    validators.set(key, validate);
  }
  return validate(value) ? undefined : { errors: schemaAjv().errorsText(validate.errors, { dataVar }) };
}

/** Why `value` does not satisfy `schema` (the runner's words), or undefined when it does or there is no schema. */
export function validateJsonValue(value: unknown, schema: unknown): string | undefined {
  if (schema === undefined) return undefined;
  const problem = checkJsonSchema(value, schema);
  if (problem === undefined) return undefined;
  return 'schema' in problem ? `the JSON Schema itself is invalid (${problem.schema})` : `the JSON does not match the schema: ${problem.errors}`;
}
