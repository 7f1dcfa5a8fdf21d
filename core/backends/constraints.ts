/**
 * Output constraints as llama.cpp grammars (GBNF) for local models, as prompt
 * hints for remote ones, and the check of an output against a constraint.
 *
 * List outputs are one item per line, each written `- item` (a Markdown bullet
 * list); that is the shape the list grammar forces and the validator accepts.
 */
import type { OutputConstraint } from './types';
import { checkJsonSchema } from '../chain/jsonSchema';

/** A GBNF string literal: quotes, backslashes and control characters escaped. */
export function gbnfString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Exactly one of the labels. */
export function labelsGrammar(labels: readonly string[]): string {
  const unique = [...new Set(labels)];
  if (unique.length === 0) throw new Error('A label constraint needs at least one label.');
  return `root ::= ${unique.map(gbnfString).join(' | ')}\n`;
}

/** The longest item the list grammar allows, in characters (keeps outputs bounded). */
export const LIST_ITEM_MAX_CHARS = 200;

/** `- item` lines, between minItems and maxItems of them. */
export function listGrammar(minItems = 1, maxItems?: number): string {
  const min = Math.max(1, Math.floor(minItems));
  const item = `item ::= "- " [^\\n\\r-] [^\\n\\r]{0,${LIST_ITEM_MAX_CHARS - 1}}`;
  let more: string;
  if (maxItems === undefined) more = `("\\n" item){${min - 1},}`;
  else {
    const max = Math.max(min, Math.floor(maxItems));
    more = `("\\n" item){${min - 1},${max - 1}}`;
  }
  return `root ::= item ${more}\n${item}\n`;
}

/** Parses a `- item` list; tolerates `*` bullets, numbered items and blank lines. */
export function parseListOutput(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/^([-*•]|\d+[.)])\s+/, ''));
}

/** A sentence for the prompt of a model that cannot be forced by a grammar. */
export function constraintHint(constraint: OutputConstraint): string {
  switch (constraint.kind) {
    case 'labels':
      return `Answer with exactly one of these labels and nothing else: ${constraint.labels.join(', ')}.`;
    case 'list': {
      const count =
        constraint.minItems !== undefined && constraint.maxItems !== undefined
          ? ` with ${constraint.minItems} to ${constraint.maxItems} items`
          : constraint.minItems !== undefined
            ? ` with at least ${constraint.minItems} items`
            : constraint.maxItems !== undefined
              ? ` with at most ${constraint.maxItems} items`
              : '';
      return `Answer with a list${count}, one item per line, each line starting with "- ".`;
    }
    case 'json-schema':
      return `Answer with JSON only, matching this JSON Schema: ${JSON.stringify(constraint.schema)}`;
  }
}

/** Why `text` does not satisfy `constraint`, or undefined when it does. */
export function checkConstraint(constraint: OutputConstraint, text: string): string | undefined {
  switch (constraint.kind) {
    case 'labels': {
      const answer = text.trim();
      return constraint.labels.includes(answer) ? undefined : `expected one of ${constraint.labels.map((l) => JSON.stringify(l)).join(', ')}, got ${JSON.stringify(answer.slice(0, 80))}`;
    }
    case 'list': {
      const items = parseListOutput(text);
      if (constraint.minItems !== undefined && items.length < constraint.minItems) return `expected at least ${constraint.minItems} items, got ${items.length}`;
      if (constraint.maxItems !== undefined && items.length > constraint.maxItems) return `expected at most ${constraint.maxItems} items, got ${items.length}`;
      return undefined;
    }
    case 'json-schema': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        return `not valid JSON (${(error as Error).message})`;
      }
      const problem = checkJsonSchema(value, constraint.schema);
      if (problem === undefined) return undefined;
      return 'schema' in problem ? `the JSON Schema itself is invalid (${problem.schema})` : `does not match the schema: ${problem.errors}`;
    }
  }
}
