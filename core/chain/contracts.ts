/**
 * Output and input contracts: from the syntax tree (`ContractNode`) to the
 * chain model's `Contract`, validating option names and values per kind.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type Ajv from 'ajv';
import type { Contract } from './model';
import { schemaDepthProblem } from './schemaDepth';
import { schemaAjv } from './jsonSchema';
import { CONTRACT_KINDS, type ContractKind, type ContractNode, type OptionNode, type Span, type Value } from '../syntax/ast';
import type { DiagnosticSink } from '../syntax/diagnosticCap';
import { ISO_639_1_CODES } from '../lexicon/languages';
import { diagnostic } from '../diagnostics/codes';
import { closest, didYouMean } from '../diagnostics/suggest';
import { describeValue, readBoolean, readChoice, readNumber, readText, scalarText } from './values';

export interface ContractContext {
  /** Path of the `.coi` file (for `schema_file`, relative to it). */
  readonly documentPath?: string;
  /** Reads a file; undefined when it cannot be read. Without it, `schema_file` is not checked. */
  readonly readFile?: (path: string) => string | undefined;
  /**
   * The document is unsaved (an editor's untitled one): it has no folder, so a relative
   * `schema_file` is noted as not checked yet (COI224) instead of looked up elsewhere.
   */
  readonly untitled?: boolean;
}

/** What `item=` accepts on a list contract. */
export const LIST_ITEM_KINDS = ['text', 'number'] as const;

/** The options each contract kind takes (editors offer the same list: core/language/vocabulary.ts). */
export const CONTRACT_OPTIONS: Readonly<Record<ContractKind, readonly string[]>> = {
  text: ['lang', 'max_words', 'max_chars'],
  label: [],
  list: ['item', 'min_items', 'max_items'],
  json: ['schema', 'schema_file'],
  number: ['min', 'max', 'integer'],
  boolean: [],
  code: ['lang'],
};

/** The contract, or undefined when its kind is unknown (reported). Bad options are reported and left out. */
export function buildContract(node: ContractNode, context: ContractContext, out: DiagnosticSink): Contract | undefined {
  const kind = node.contractKind;
  if (kind === undefined) {
    const suggestion = closest(node.kindName.name, CONTRACT_KINDS);
    out.push(
      diagnostic('COI211', node.kindName.span, `Unknown contract kind '${node.kindName.name}'; expected one of ${CONTRACT_KINDS.join(', ')}.${didYouMean(suggestion)}`, {
        ...(suggestion ? { data: { suggestion } } : {}),
      }),
    );
    return undefined;
  }
  if (node.labels && kind !== 'label') {
    out.push(diagnostic('COI213', node.labels.span, `Only a 'label' contract takes a label set; '${kind}' does not.`));
  }
  const options = knownOptions(node, kind, out);
  switch (kind) {
    case 'text':
      return textContract(options, out);
    case 'label':
      return labelContract(node, out);
    case 'list':
      return listContract(options, out);
    case 'json':
      return jsonContract(node, options, context, out);
    case 'number':
      return numberContract(options, out);
    case 'boolean':
      return { kind: 'boolean' };
    case 'code': {
      const lang = options.get('lang');
      const name = lang?.value ? readText(lang.value, "'lang'", 'COI213', out) : undefined;
      return name !== undefined ? { kind: 'code', lang: name } : { kind: 'code' };
    }
  }
}

/** The options allowed for the kind, by name (first occurrence); reports unknown and repeated ones. */
function knownOptions(node: ContractNode, kind: ContractKind, out: DiagnosticSink): Map<string, OptionNode> {
  const allowed = CONTRACT_OPTIONS[kind];
  const options = new Map<string, OptionNode>();
  for (const option of node.options) {
    const name = option.key.name;
    if (!allowed.includes(name)) {
      const suggestion = closest(name, allowed);
      const expected = allowed.length > 0 ? `it takes ${allowed.join(', ')}` : 'it takes no options';
      out.push(
        diagnostic('COI212', option.key.span, `Unknown option '${name}' for a '${kind}' contract; ${expected}.${didYouMean(suggestion)}`, {
          ...(suggestion ? { data: { suggestion } } : {}),
        }),
      );
      continue;
    }
    if (options.has(name)) {
      out.push(diagnostic('COI215', option.span, `Option '${name}' is given twice; the first one counts.`, { unnecessary: true }));
      continue;
    }
    options.set(name, option);
  }
  return options;
}

function optionValue(options: Map<string, OptionNode>, name: string): Value | undefined {
  return options.get(name)?.value;
}

function textContract(options: Map<string, OptionNode>, out: DiagnosticSink): Contract {
  const lang = readLanguage(optionValue(options, 'lang'), out);
  const maxWordsValue = optionValue(options, 'max_words');
  const maxCharsValue = optionValue(options, 'max_chars');
  const maxWords = maxWordsValue ? readNumber(maxWordsValue, { integer: true, min: 1 }, "'max_words'", 'COI213', out) : undefined;
  const maxChars = maxCharsValue ? readNumber(maxCharsValue, { integer: true, min: 1 }, "'max_chars'", 'COI213', out) : undefined;
  return {
    kind: 'text',
    ...(lang !== undefined ? { lang } : {}),
    ...(maxWords !== undefined ? { maxWords } : {}),
    ...(maxChars !== undefined ? { maxChars } : {}),
  };
}

/** An ISO 639-1 code, or a report. */
export function readLanguage(value: Value | undefined, out: DiagnosticSink): string | undefined {
  if (!value) return undefined;
  const text = scalarText(value);
  if (text !== undefined && ISO_639_1_CODES.has(text)) return text;
  const lower = text?.toLowerCase();
  const hint = lower !== undefined && ISO_639_1_CODES.has(lower) ? ` Write it in lower case: '${lower}'.` : '';
  out.push(
    diagnostic('COI213', value.span, `'lang' must be an ISO 639-1 language code (such as en, fr, de), not ${describeValue(value)}.${hint}`, {
      ...(hint ? { data: { suggestion: lower } } : {}),
    }),
  );
  return undefined;
}

function labelContract(node: ContractNode, out: DiagnosticSink): Contract {
  if (!node.labels) {
    out.push(diagnostic('COI214', node.kindName.span, "A 'label' contract needs its label set, as in `label [positive, negative]`.", { data: { insert: ' [yes, no]' } }));
    return { kind: 'label', labels: [] };
  }
  const labels: string[] = [];
  for (const item of node.labels.items) {
    const text = scalarText(item);
    if (text === undefined) {
      out.push(diagnostic('COI213', item.span, 'A label must be a word, a string or a number, not a list.'));
      continue;
    }
    if (labels.includes(text)) {
      out.push(diagnostic('COI215', item.span, `Label '${text}' is listed twice.`, { unnecessary: true }));
      continue;
    }
    labels.push(text);
  }
  if (node.labels.items.length === 0) {
    out.push(diagnostic('COI214', node.labels.span, 'The label set is empty: list the labels the step may answer with.'));
  }
  return { kind: 'label', labels };
}

function listContract(options: Map<string, OptionNode>, out: DiagnosticSink): Contract {
  const itemValue = optionValue(options, 'item');
  const item = itemValue ? readChoice(itemValue, LIST_ITEM_KINDS, "'item'", 'COI213', out) : undefined;
  const minValue = optionValue(options, 'min_items');
  const maxValue = optionValue(options, 'max_items');
  const minItems = minValue ? readNumber(minValue, { integer: true, min: 0 }, "'min_items'", 'COI213', out) : undefined;
  const maxItems = maxValue ? readNumber(maxValue, { integer: true, min: 1 }, "'max_items'", 'COI213', out) : undefined;
  if (minItems !== undefined && maxItems !== undefined && minItems > maxItems && maxValue) {
    out.push(diagnostic('COI213', spanOf(options, 'min_items', maxValue.span), `'min_items' (${minItems}) is greater than 'max_items' (${maxItems}).`));
  }
  return {
    kind: 'list',
    item: item ?? 'text',
    ...(minItems !== undefined ? { minItems } : {}),
    ...(maxItems !== undefined ? { maxItems } : {}),
  };
}

function numberContract(options: Map<string, OptionNode>, out: DiagnosticSink): Contract {
  const minValue = optionValue(options, 'min');
  const maxValue = optionValue(options, 'max');
  const integerValue = optionValue(options, 'integer');
  const min = minValue ? readNumber(minValue, {}, "'min'", 'COI213', out) : undefined;
  const max = maxValue ? readNumber(maxValue, {}, "'max'", 'COI213', out) : undefined;
  const integer = integerValue ? readBoolean(integerValue, "'integer'", 'COI213', out) : undefined;
  if (min !== undefined && max !== undefined && min > max && maxValue) {
    out.push(diagnostic('COI213', spanOf(options, 'min', maxValue.span), `'min' (${min}) is greater than 'max' (${max}).`));
  }
  return {
    kind: 'number',
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(integer !== undefined ? { integer } : {}),
  };
}

function spanOf(options: Map<string, OptionNode>, name: string, fallback: Span): Span {
  return options.get(name)?.span ?? fallback;
}

function jsonContract(node: ContractNode, options: Map<string, OptionNode>, context: ContractContext, out: DiagnosticSink): Contract {
  const inline = optionValue(options, 'schema');
  const file = optionValue(options, 'schema_file');
  if (inline && file) {
    out.push(diagnostic('COI213', options.get('schema_file')?.span ?? node.span, "Give the schema inline ('schema') or in a file ('schema_file'), not both."));
  }
  if (inline) {
    const text = readText(inline, "'schema'", 'COI213', out);
    if (text === undefined) return { kind: 'json' };
    const schema = checkSchemaText(text, inline.span, 'The inline schema', out);
    return schema === undefined ? { kind: 'json' } : { kind: 'json', schema };
  }
  if (file) {
    const path = readText(file, "'schema_file'", 'COI213', out);
    if (path === undefined) return { kind: 'json' };
    const contract: Contract = { kind: 'json', schemaFile: path };
    const schema = checkSchemaFile(path, file.span, context, out);
    if (schema !== undefined) fileSchemas.set(contract, schema);
    return contract;
  }
  return { kind: 'json' };
}

/**
 * The schemas of `schema_file` contracts as the check read them. Kept beside the contract,
 * not in it: a contract is part of a step's cache key, and the runner reads the file afresh.
 */
const fileSchemas = new WeakMap<Contract, unknown>();

/**
 * A json contract's JSON Schema as checked: the inline one, or the content of its
 * `schema_file` when the check could read it and found it valid (else undefined).
 */
export function checkedSchema(contract: Contract): unknown {
  if (contract.kind !== 'json') return undefined;
  return contract.schema ?? fileSchemas.get(contract);
}

/** Reads and checks a `schema_file`; the schema when it is valid. */
function checkSchemaFile(path: string, span: Span, context: ContractContext, out: DiagnosticSink): unknown {
  if (!context.readFile) return undefined;
  if (context.untitled === true && !isAbsolute(path)) {
    out.push(diagnostic('COI224', span, `Schema file '${path}' is checked once the document is saved: an untitled document has no folder to find a relative path in.`));
    return undefined;
  }
  const base = context.documentPath ? dirname(context.documentPath) : process.cwd();
  const fullPath = isAbsolute(path) ? path : resolve(base, path);
  const text = context.readFile(fullPath);
  if (text === undefined) {
    out.push(diagnostic('COI218', span, `Schema file '${path}' cannot be read (looked for ${fullPath}).`));
    return undefined;
  }
  return checkSchemaText(text, span, `Schema file '${path}'`, out);
}

/** Parses and checks a JSON Schema; reports what is wrong; returns the schema when it is valid. */
function checkSchemaText(text: string, span: Span, what: string, out: DiagnosticSink): unknown {
  const verdict = schemaVerdict(text);
  if (verdict.notJson !== undefined) {
    out.push(diagnostic('COI216', span, `${what} is not valid JSON: ${verdict.notJson}.`));
    return undefined;
  }
  if (verdict.invalid !== undefined) {
    out.push(diagnostic('COI217', span, `${what} is not a valid JSON Schema: ${verdict.invalid}.`));
    return undefined;
  }
  return verdict.schema;
}

interface SchemaVerdict {
  readonly schema?: unknown;
  readonly notJson?: string;
  readonly invalid?: string;
}

/** Verdicts by schema text: editors re-check on every keystroke, and files repeat schemas. */
const schemaVerdicts = new Map<string, SchemaVerdict>();

function schemaVerdict(text: string): SchemaVerdict {
  const cached = schemaVerdicts.get(text);
  if (cached) return cached;
  let verdict: SchemaVerdict;
  try {
    const schema: unknown = JSON.parse(text);
    const problem = schemaProblem(text, schema);
    verdict = problem === undefined ? { schema } : { invalid: problem };
  } catch (error) {
    verdict = { notJson: (error as Error).message.replace(/\.$/, '') };
  }
  if (schemaVerdicts.size > 500) schemaVerdicts.clear();
  schemaVerdicts.set(text, verdict);
  return verdict;
}

function schemaProblem(text: string, schema: unknown): string | undefined {
  if (schema === null || Array.isArray(schema) || (typeof schema !== 'object' && typeof schema !== 'boolean')) {
    return 'a schema is an object (or true/false)';
  }
  const tooDeep = schemaDepthProblem(schema);
  if (tooDeep !== undefined) return tooDeep;
  const ajv = schemaAjv();
  const problem = metaSchemaProblem(ajv, schema);
  // Validating against the meta-schema is cheap; compiling (which also resolves $ref) is
  // not, so compile only the schemas that reference something.
  if (problem !== undefined || !text.includes('"$ref"')) return problem;
  try {
    ajv.compile(schema);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/\.$/, '');
  }
}

function metaSchemaProblem(validator: Ajv, schema: object | boolean): string | undefined {
  try {
    if (validator.validateSchema(schema) === true) return undefined;
    return validator.errorsText(validator.errors, { dataVar: 'schema' });
  } catch (error) {
    return (error as Error).message.replace(/\.$/, '');
  }
}
