/**
 * The one reader of a chain input's value as a user writes it — a test's `given`, `coi run
 * --input`, the panel's inputs — against the input's contract. The editor's check (COI412)
 * and the run (`checkInputs`) both read inputs with it, so what the editor reports the run
 * refuses in the same words, and the other way round; and the steps are fed the value it
 * returns: the canonical spelling of what was written.
 *
 * These rules are stricter than those for model outputs (core/runner/contract.ts): a model
 * decorates its answers (quotes, a trailing period, `yes` for true, a code fence, bullets),
 * a user writes the value itself.
 */
import type { Contract } from './model';
import { checkJsonSchema, type PatternEngine } from './jsonSchema';
import { brokenTextBound, LIST_BULLET, listText, type TextContract } from './contractValues';
import { otherLanguage } from '../lexicon/languageGuess';
import { languageName } from '../lexicon/languages';

/** How a `json` chain input's value reads: the value, or what is wrong with it. */
export type InputJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string; readonly detail: string };

/**
 * A `json` chain input's value as JSON text as written. A Markdown code fence around it is
 * not taken off — that leniency is for model outputs, which add fences on their own — so the
 * steps are fed the JSON itself. `problem` reads after "the value" (`does not parse as
 * JSON`); `detail` is the parser's own message.
 */
export function readInputJson(text: string): InputJson {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const detail = (error as Error).message;
    if (/^\s*```/.test(text)) return { ok: false, problem: 'is wrapped in a Markdown code fence (```), which is not JSON: write the JSON without the fence', detail };
    return { ok: false, problem: 'does not parse as JSON', detail };
  }
}

/**
 * A chain input's value read against its contract: `value` is what the steps are fed (the
 * canonical spelling), or `problem` says what is wrong — it reads after the input's name
 * (`Input 'stars' must be at most 5, not 7`), with no final period; `detail` is a parser's
 * own message (the run adds it in parentheses).
 */
export type InputValue = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly problem: string; readonly detail?: string };

/** A decimal number as written: optional sign, digits, optional fraction and exponent (`5`, `-0.5`, `1e3`; not `5.`, `.5`, `0x10`). */
const NUMBER = /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/;

const fail = (problem: string, detail?: string): InputValue => (detail !== undefined ? { ok: false, problem, detail } : { ok: false, problem });

/** How a problem quotes the value written: as a JSON string, long ones cut. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/**
 * Reads the value `text` of input `name` (the name JSON Schema errors start with) under
 * `contract`; `schema` is a `json` contract's JSON Schema (inline or read from its file).
 *
 * - text: taken as written, within `max_words`/`max_chars` (counted as for a step's output);
 *   with `lang`, refused only when the language guess of the output contracts clearly reads
 *   another language (a short or mixed text is never refused).
 * - code: taken as written.
 * - number: a decimal number, spaces around it ignored, within `min`/`max`, whole when
 *   `integer=true`; fed as JavaScript writes the number (`05` → `5`, `2.50` → `2.5`, `1e3` → `1000`).
 * - boolean: `true` or `false`, in any case, spaces around ignored; fed in lower case.
 * - label: one of the labels, spaces around ignored, letter case ignored when that names
 *   one label only; fed in the declared spelling.
 * - list: a JSON array of texts and numbers (no empty item, none spanning lines), or one item
 *   per line (blank lines skipped, spaces around each item ignored, and the `- ` bullets taken
 *   off when every line has one: the form the steps read); `item=number` items are numbers as
 *   above; the item count within `min_items`/`max_items`. Fed one item per line behind `- `
 *   (contractValues.ts `listText`), as a list step's output is.
 * - json: JSON as written (see readInputJson), matching `schema`; fed as written. The checker
 *   runs the schema's patterns with the linear-time engine (`patterns`, core/chain/jsonSchema.ts).
 */
export function readInputValue(contract: Contract, text: string, name: string, schema?: unknown, patterns: PatternEngine = 'native'): InputValue {
  switch (contract.kind) {
    case 'text':
      return readText(contract, text);
    case 'code':
      return { ok: true, value: text };
    case 'number': {
      const read = readNumber(text);
      if (typeof read === 'string') return fail(read);
      if (contract.integer === true && !Number.isInteger(read.value)) return fail(`must be an integer, not ${read.text}`);
      if (contract.min !== undefined && read.value < contract.min) return fail(`must be at least ${contract.min}, not ${read.text}`);
      if (contract.max !== undefined && read.value > contract.max) return fail(`must be at most ${contract.max}, not ${read.text}`);
      return { ok: true, value: read.text };
    }
    case 'boolean': {
      const answer = text.trim().toLowerCase();
      return answer === 'true' || answer === 'false' ? { ok: true, value: answer } : fail(`is a boolean (true or false), not ${quoted(text)}`);
    }
    case 'label': {
      if (contract.labels.length === 0) return { ok: true, value: text }; // no label set: reported on the contract
      const label = matchLabel(text, contract.labels);
      return label !== undefined ? { ok: true, value: label } : fail(`must be one of ${contract.labels.join(', ')}, not ${quoted(text)}`);
    }
    case 'list':
      return readList(contract, text);
    case 'json': {
      const read = readInputJson(text);
      if (!read.ok) return fail(`is JSON, but the value given ${read.problem}`, read.detail);
      if (schema === undefined) return { ok: true, value: text };
      const problem = checkJsonSchema(read.value, schema, name, patterns);
      if (problem === undefined) return { ok: true, value: text };
      return 'errors' in problem ? fail(`does not match its JSON Schema: ${problem.errors}`) : fail(`cannot be checked: its JSON Schema is invalid (${problem.schema})`);
    }
  }
}

/** A text within its contract's bounds and, as far as the guess can tell, in its language. */
function readText(contract: TextContract, text: string): InputValue {
  const bound = brokenTextBound(contract, text);
  if (bound !== undefined) return fail(`must have at most ${bound.max} ${bound.unit}, not ${bound.count}`);
  const other = contract.lang !== undefined ? otherLanguage(text, contract.lang) : undefined;
  if (other !== undefined) return fail(`is ${languageName(contract.lang!)} (lang=${contract.lang!}), but the value given reads as ${languageName(other.lang)} (${other.evidence})`);
  return { ok: true, value: text };
}

/** The number `text` writes (spaces around ignored), with its canonical spelling; or what is wrong, read after the input's name. */
function readNumber(text: string): { readonly value: number; readonly text: string } | string {
  const trimmed = text.trim();
  const value = NUMBER.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(value)) return `is a number, but the value given is ${quoted(text)}`;
  // Digits past what a double holds would reach the steps changed (12345678901234567890 → …7000).
  if (Number.isInteger(value) && !Number.isSafeInteger(value) && /^[+-]?\d+$/.test(trimmed)) return `is a number, but ${trimmed} has more digits than a number holds exactly (at most ${Number.MAX_SAFE_INTEGER})`;
  return { value, text: String(value) };
}

/** The declared label `text` names: exactly (spaces around ignored), else ignoring case when only one label fits. */
function matchLabel(text: string, labels: readonly string[]): string | undefined {
  const trimmed = text.trim();
  if (labels.includes(trimmed)) return trimmed;
  const fits = labels.filter((label) => label.toLowerCase() === trimmed.toLowerCase());
  return fits.length === 1 ? fits[0] : undefined;
}

function readList(contract: Extract<Contract, { kind: 'list' }>, text: string): InputValue {
  const items = listItems(text);
  if (!Array.isArray(items)) return items;
  const numbers: number[] = [];
  if (contract.item === 'number') {
    for (const [index, item] of items.entries()) {
      const read = readNumber(item);
      if (typeof read === 'string') return fail(`is a list of numbers, but item ${index + 1} (${quoted(item)}) is not a number`);
      numbers.push(read.value);
    }
  }
  if (contract.minItems !== undefined && items.length < contract.minItems) return fail(`must have at least ${contract.minItems} item${contract.minItems === 1 ? '' : 's'}, not ${items.length}`);
  if (contract.maxItems !== undefined && items.length > contract.maxItems) return fail(`must have at most ${contract.maxItems} item${contract.maxItems === 1 ? '' : 's'}, not ${items.length}`);
  return { ok: true, value: listText(contract.item === 'number' ? numbers.map(String) : items) };
}

/** A list value's items as texts (numbers as written in the JSON), or what is wrong. */
function listItems(text: string): string[] | InputValue {
  const trimmed = text.trim();
  if (trimmed === '') return fail('is a list, but the value given is empty');
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      return fail("is a list, but the value given starts with '[' and does not parse as a JSON array", (error as Error).message);
    }
    if (!Array.isArray(value)) return fail("is a list, but the value given starts with '[' and is not a JSON array");
    const items: string[] = [];
    for (const [index, item] of (value as unknown[]).entries()) {
      if (typeof item === 'number') items.push(String(item));
      else if (typeof item !== 'string') return fail(`is a list of texts and numbers, but item ${index + 1} is ${item === null ? 'null' : Array.isArray(item) ? 'a list' : typeof item === 'object' ? 'an object' : `a ${typeof item}`}`);
      // The steps read one item per line: an empty item or one of several lines would not read back as written.
      else if (item.trim() === '') return fail(`is a list, but item ${index + 1} is empty`);
      else if (/[\r\n]/.test(item)) return fail(`is a list, but item ${index + 1} (${quoted(item)}) spans several lines: the steps read one item per line`);
      else items.push(item.trim());
    }
    return items;
  }
  const lines = trimmed
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  // The form the steps are fed (`- a` lines) reads back as the same list.
  return lines.every((line) => line.startsWith(LIST_BULLET)) ? lines.map((line) => line.slice(LIST_BULLET.length).trim()) : lines;
}
