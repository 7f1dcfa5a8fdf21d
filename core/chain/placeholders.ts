/**
 * Values to fill in for a chain input that its contract accepts: what the COI403 fix writes
 * into a test (`given NAME = VALUE`). For a `json` input with a JSON Schema, an example shaped
 * by the schema: its required properties, each with a placeholder of the right type.
 */
import type { Contract } from './model';
import { isIdentifier } from '../syntax/lexer';

/**
 * The value as `.coi` text: `"TODO"` for text and code, the lowest number allowed, the first
 * label, `false`, a one-item list; for json `"{}"`, or an example of the schema when there is
 * one (`schema`: the contract's JSON Schema, inline or read from its `schema_file`).
 */
export function placeholderValue(contract: Contract | undefined, schema?: unknown): string {
  switch (contract?.kind) {
    case 'number': {
      let n = contract.min ?? (contract.max !== undefined && contract.max < 0 ? contract.max : 0);
      if (contract.integer) n = Math.ceil(n);
      return numberLiteral(n);
    }
    case 'label': {
      const first = contract.labels[0];
      return first === undefined ? '"TODO"' : isIdentifier(first) ? first : JSON.stringify(first);
    }
    case 'boolean':
      return 'false';
    case 'json':
      return schema === undefined ? '"{}"' : jsonLiteral(schemaExample(schema));
    case 'list': {
      // As many items as `min_items` asks for (at least one), as the input reader counts them.
      const item = contract.item === 'number' ? '0' : '"TODO"';
      return `[${Array.from({ length: Math.max(1, contract.minItems ?? 1) }, () => item).join(', ')}]`;
    }
    default:
      return '"TODO"';
  }
}

function numberLiteral(n: number): string {
  const written = String(n);
  return /^-?\d+(\.\d+)?$/.test(written) ? written : JSON.stringify(written);
}

/** JSON text as a `.coi` string: a raw `'single'` string (no escapes needed) unless it holds a `'`. */
function jsonLiteral(value: unknown): string {
  const json = compactJson(value);
  return json.includes("'") ? JSON.stringify(json) : `'${json}'`;
}

/** JSON on one line, spaced as people write it: `{"name": "TODO", "tags": []}`. */
function compactJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compactJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${compactJson(item)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// ---------------------------------------------------------------------------
// Examples of JSON Schemas
// ---------------------------------------------------------------------------

/** Subschemas followed at most this deep (a recursive `$ref` must end). */
const MAX_EXAMPLE_DEPTH = 16;
/** Values made at most for one example: a schema whose required properties refer back to it branches at every level. */
const MAX_EXAMPLE_VALUES = 500;

/** What one example is made from: the root (for `$ref`) and the values still allowed. */
interface ExampleContext {
  readonly root: unknown;
  budget: number;
  /** The references being expanded: one met again is a cycle, left as a placeholder. */
  readonly expanding: Set<string>;
}

type Schema = Readonly<Record<string, unknown>>;

/**
 * A value shaped by the schema: an object with its required properties, an array of its
 * `minItems` items, the schema's own `const`, `default`, first example or first `enum` value,
 * strings `"TODO"` (or a sample of their `format`), the lowest number allowed, `false`, `null`;
 * `{}` when the schema says nothing of the shape. A schema can ask for more than this
 * (a `pattern`, a `oneOf` that two branches match): the check then says what to change.
 */
export function schemaExample(schema: unknown): unknown {
  return typeof schema === 'boolean' ? {} : (exampleOf(schema, { root: schema, budget: MAX_EXAMPLE_VALUES, expanding: new Set() }, 0) ?? {});
}

function exampleOf(node: unknown, context: ExampleContext, depth: number): unknown {
  if (node === true) return 'TODO';
  if (!isSchema(node) || depth > MAX_EXAMPLE_DEPTH || context.budget <= 0) return undefined;
  context.budget--;
  if ('const' in node) return node.const;
  if ('default' in node) return node.default;
  if (Array.isArray(node.examples) && node.examples.length > 0) return node.examples[0];
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0];
  if (typeof node.$ref === 'string' && !context.expanding.has(node.$ref)) {
    const ref = node.$ref;
    const target = resolveRef(ref, context.root);
    if (target !== undefined) {
      context.expanding.add(ref);
      const example = exampleOf(target, context, depth + 1);
      context.expanding.delete(ref);
      return example;
    }
  }
  if (Array.isArray(node.allOf) && node.allOf.length > 0) {
    const parts = node.allOf.map((part) => exampleOf(part, context, depth + 1));
    if (parts.every(isPlainObject)) return Object.fromEntries([...parts, objectExample(node, context, depth)].flatMap((part) => Object.entries(part)));
    return parts.find((part) => part !== undefined);
  }
  for (const key of ['oneOf', 'anyOf']) {
    const options = node[key];
    if (Array.isArray(options) && options.length > 0) return exampleOf(options[0], context, depth + 1);
  }
  switch (typeOf(node)) {
    case 'object':
      return objectExample(node, context, depth);
    case 'array':
      return arrayExample(node, context, depth);
    case 'string':
      return stringExample(node);
    case 'integer':
      return numberExample(node, true);
    case 'number':
      return numberExample(node, false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return undefined;
  }
}

function isSchema(node: unknown): node is Schema {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The type a schema declares (the first that is not null), or the one its keywords imply. */
function typeOf(node: Schema): string | undefined {
  const declared = Array.isArray(node.type) ? (node.type.find((t) => t !== 'null') ?? node.type[0]) : node.type;
  if (typeof declared === 'string') return declared;
  if ('properties' in node || 'required' in node || 'additionalProperties' in node) return 'object';
  if ('items' in node || 'prefixItems' in node || 'minItems' in node) return 'array';
  if ('minLength' in node || 'maxLength' in node || 'pattern' in node || 'format' in node) return 'string';
  if ('minimum' in node || 'maximum' in node || 'exclusiveMinimum' in node || 'exclusiveMaximum' in node || 'multipleOf' in node) return 'number';
  return undefined;
}

/** A local reference (`#/$defs/person`, `#/definitions/person`, `#`); others are not followed. */
function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter((part) => part !== '')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isSchema(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

function objectExample(node: Schema, context: ExampleContext, depth: number): Record<string, unknown> {
  const properties = isSchema(node.properties) ? node.properties : {};
  const required: readonly unknown[] = Array.isArray(node.required) ? node.required : [];
  const entries: [string, unknown][] = [];
  for (const name of required) {
    if (context.budget <= 0) break; // an example, not a complete one: the check names the rest
    if (typeof name !== 'string') continue;
    const schema = Object.hasOwn(properties, name) ? properties[name] : isSchema(node.additionalProperties) ? node.additionalProperties : true;
    const value = exampleOf(schema, context, depth + 1);
    entries.push([name, value === undefined ? 'TODO' : value]);
  }
  // fromEntries defines own properties: one named `__proto__` is kept as a property.
  return Object.fromEntries(entries);
}

function arrayExample(node: Schema, context: ExampleContext, depth: number): unknown[] {
  const count = typeof node.minItems === 'number' && node.minItems > 0 ? Math.min(Math.ceil(node.minItems), 16) : 0;
  // A tuple: `prefixItems` (2020-12) or `items` as an array (draft 7).
  const tuple = Array.isArray(node.prefixItems) ? node.prefixItems : Array.isArray(node.items) ? node.items : undefined;
  const rest = tuple === undefined ? node.items : Array.isArray(node.items) ? node.additionalItems : node.items;
  const items: unknown[] = [];
  for (let i = 0; i < Math.max(count, tuple?.length ?? 0) && i < 16; i++) {
    const value = exampleOf(tuple !== undefined && i < tuple.length ? tuple[i] : (rest ?? true), context, depth + 1);
    items.push(value === undefined ? 'TODO' : value);
  }
  return items;
}

/** Samples of common formats (Ajv ignores formats without ajv-formats, but people read them). */
const FORMAT_SAMPLES: Readonly<Record<string, string>> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00Z',
  email: 'name@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  hostname: 'example.com',
  ipv4: '127.0.0.1',
  ipv6: '::1',
  uuid: '00000000-0000-0000-0000-000000000000',
};

function stringExample(node: Schema): string {
  let text = (typeof node.format === 'string' ? FORMAT_SAMPLES[node.format] : undefined) ?? 'TODO';
  const min = typeof node.minLength === 'number' ? Math.min(node.minLength, 1000) : 0;
  const max = typeof node.maxLength === 'number' ? node.maxLength : Infinity;
  if (text.length < min) text = text.padEnd(min, '_');
  if (text.length > max) text = text.slice(0, Math.max(0, max));
  return text;
}

function numberExample(node: Schema, integer: boolean): number {
  const num = (key: string): number | undefined => (typeof node[key] === 'number' && Number.isFinite(node[key]) ? node[key] : undefined);
  const step = integer ? 1 : 0.5;
  const max = num('maximum') ?? (num('exclusiveMaximum') !== undefined ? (num('exclusiveMaximum') as number) - step : undefined);
  let n = num('minimum') ?? (num('exclusiveMinimum') !== undefined ? (num('exclusiveMinimum') as number) + step : undefined) ?? (max !== undefined && max < 0 ? max : 0);
  if (integer) n = Math.ceil(n);
  const multiple = num('multipleOf');
  if (multiple !== undefined && multiple > 0) n = Math.ceil(n / multiple) * multiple;
  return n;
}
