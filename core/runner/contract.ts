/**
 * What a step's output contract means at run time: the format hint written into
 * the prompt, the grammar constraint handed to local models, and the validation
 * of the model's answer (DESIGN section 5: "validation of every step output
 * either way, with a clear per-step error").
 */
import { isAbsolute, resolve } from 'node:path';
import type { Contract } from '../chain/model';
import { readRegularTextFile } from '../syntax/textFile';
import type { OutputConstraint } from '../backends/types';
import { constraintHint, parseListOutput } from '../backends/constraints';
import { validateJsonValue } from '../chain/jsonSchema';
import { brokenTextBound, listText } from '../chain/contractValues';
import { languageName } from '../lexicon/languages';
import { languageMismatch } from '../lexicon/languageGuess';

export { validateJsonValue } from '../chain/jsonSchema';

/** Loads a `schema_file` contract's schema relative to the chain file's folder. */
export function resolveJsonSchema(contract: Contract, baseDir?: string): unknown {
  if (contract.kind !== 'json') return undefined;
  if (contract.schema !== undefined) return contract.schema;
  if (contract.schemaFile === undefined) return undefined;
  const path = isAbsolute(contract.schemaFile) || baseDir === undefined ? contract.schemaFile : resolve(baseDir, contract.schemaFile);
  try {
    return JSON.parse(readRegularTextFile(path)) as unknown;
  } catch (error) {
    throw new Error(`Cannot read the JSON Schema file ${contract.schemaFile}: ${(error as Error).message}`);
  }
}

/** The grammar constraint for local models (labels, lists and JSON; others are free text). */
export function contractToConstraint(contract: Contract, schema?: unknown): OutputConstraint | undefined {
  switch (contract.kind) {
    case 'label':
      return contract.labels.length > 0 ? { kind: 'labels', labels: contract.labels } : undefined;
    case 'list':
      return { kind: 'list', minItems: contract.minItems, maxItems: contract.maxItems };
    case 'json':
      return { kind: 'json-schema', schema: schema ?? {} };
    default:
      return undefined;
  }
}

/** One sentence (or none) telling the model the expected output format. */
export function formatHint(contract: Contract, schema?: unknown): string | undefined {
  switch (contract.kind) {
    case 'text': {
      const parts: string[] = [];
      if (contract.lang !== undefined) parts.push(`Answer in ${languageName(contract.lang)}.`);
      if (contract.maxWords !== undefined) parts.push(`Use at most ${contract.maxWords} words.`);
      if (contract.maxChars !== undefined) parts.push(`Use at most ${contract.maxChars} characters.`);
      return parts.length > 0 ? parts.join(' ') : undefined;
    }
    case 'label':
      return contract.labels.length > 0 ? constraintHint({ kind: 'labels', labels: contract.labels }) : undefined;
    case 'list': {
      const hint = constraintHint({ kind: 'list', minItems: contract.minItems, maxItems: contract.maxItems });
      return contract.item === 'number' ? `${hint} Each item is a number.` : hint;
    }
    case 'json':
      return schema !== undefined ? constraintHint({ kind: 'json-schema', schema }) : 'Answer with JSON only.';
    case 'number': {
      const range =
        contract.min !== undefined && contract.max !== undefined
          ? ` between ${contract.min} and ${contract.max}`
          : contract.min !== undefined
            ? ` of at least ${contract.min}`
            : contract.max !== undefined
              ? ` of at most ${contract.max}`
              : '';
      return `Answer with a single ${contract.integer === true ? 'whole number' : 'number'}${range} and nothing else.`;
    }
    case 'boolean':
      return 'Answer with true or false and nothing else.';
    case 'code':
      return contract.lang !== undefined ? `Answer with ${contract.lang} code only.` : 'Answer with code only.';
  }
}

/**
 * `warnings`: what looks wrong but cannot be proven (a text that reads as another language
 * than its `lang`); the output is still accepted.
 */
export type Validation = { readonly ok: true; readonly value: string; readonly warnings?: readonly string[] } | { readonly ok: false; readonly message: string };

const ok = (value: string, warnings: readonly string[] = []): Validation => (warnings.length > 0 ? { ok: true, value, warnings } : { ok: true, value });
const fail = (message: string): Validation => ({ ok: false, message });

/** Strips a Markdown code fence around the whole answer (models love them). */
export function stripCodeFence(text: string): string {
  const match = /^\s*```[\w+-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```\s*$/.exec(text);
  return match?.[1] ?? text;
}

/** A short answer as the model may decorate it: quotes, trailing period, surrounding spaces. */
function bareAnswer(text: string): string {
  return text
    .trim()
    .replace(/^["'`*]+|["'`*]+$/g, '')
    .replace(/[.!]+$/, '')
    .trim();
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine);
}

/**
 * Checks an output against its contract. On success `value` is the output as
 * later steps see it (labels in their declared spelling, fences removed from
 * JSON, a list as `- ` lines); on failure `message` says what was wrong, quoting the output.
 */
export function validateOutput(contract: Contract, text: string, schema?: unknown): Validation {
  if (text.trim().length === 0) return fail('the model returned an empty output');
  switch (contract.kind) {
    case 'text': {
      const bound = brokenTextBound(contract, text);
      if (bound !== undefined) return fail(`expected at most ${bound.max} ${bound.unit}, got ${bound.count}`);
      const mismatch = contract.lang !== undefined ? languageMismatch(text, contract.lang.toLowerCase(), languageName) : undefined;
      return ok(text.trim(), mismatch !== undefined ? [mismatch] : []);
    }
    case 'label': {
      const answer = bareAnswer(text);
      const label = contract.labels.find((l) => l === answer) ?? contract.labels.find((l) => l.toLowerCase() === answer.toLowerCase());
      return label !== undefined ? ok(label) : fail(`expected one of ${contract.labels.map((l) => JSON.stringify(l)).join(', ')}, got ${preview(text)}`);
    }
    case 'list': {
      const items = parseList(text);
      if (items.length === 0) return fail(`expected a list, got ${preview(text)}`);
      if (contract.minItems !== undefined && items.length < contract.minItems) return fail(`expected at least ${contract.minItems} items, got ${items.length}`);
      if (contract.maxItems !== undefined && items.length > contract.maxItems) return fail(`expected at most ${contract.maxItems} items, got ${items.length}`);
      if (contract.item === 'number') {
        const bad = items.find((item) => !Number.isFinite(Number(item)));
        if (bad !== undefined) return fail(`expected a list of numbers, but ${preview(bad)} is not a number`);
      }
      // Later steps read a list in one form whatever the model wrote (numbers, `*`, a JSON array): `- ` lines.
      return ok(listText(items));
    }
    case 'json': {
      const body = stripCodeFence(text).trim();
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (error) {
        return fail(`expected JSON, got ${preview(text)} (${(error as Error).message})`);
      }
      const problem = validateJsonValue(value, schema);
      return problem === undefined ? ok(body) : fail(problem);
    }
    case 'number': {
      const answer = bareAnswer(text);
      const value = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(answer) ? Number(answer) : NaN;
      if (!Number.isFinite(value)) return fail(`expected a number, got ${preview(text)}`);
      if (contract.integer === true && !Number.isInteger(value)) return fail(`expected a whole number, got ${answer}`);
      if (contract.min !== undefined && value < contract.min) return fail(`expected a number of at least ${contract.min}, got ${answer}`);
      if (contract.max !== undefined && value > contract.max) return fail(`expected a number of at most ${contract.max}, got ${answer}`);
      return ok(answer);
    }
    case 'boolean': {
      const answer = bareAnswer(text).toLowerCase();
      if (answer === 'true' || answer === 'yes') return ok('true');
      if (answer === 'false' || answer === 'no') return ok('false');
      return fail(`expected true or false, got ${preview(text)}`);
    }
    case 'code':
      return ok(stripCodeFence(text));
  }
}

/** List items: a JSON array of strings/numbers, or one item per line (bullets and numbering removed). */
export function parseList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const value = JSON.parse(trimmed) as unknown;
      if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
    } catch {
      // Not JSON: read it as lines.
    }
  }
  return parseListOutput(trimmed);
}
