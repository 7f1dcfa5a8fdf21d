/**
 * What a run record on disk keeps of huge texts. A failed run of a 50 MB input used to
 * write a 50 MB record (the input, then again in the prompt); the record is for reading
 * and comparing runs, so each long text keeps its head and says how much was left out.
 * The run itself, and what `coi run --json` prints, keep everything.
 */
import { characterCount, headOf } from '../syntax/characters';
import type { ComposedGeneration, RunRecord, StepRunResult } from './types';

/** Characters kept of each text of a saved record (inputs, prompts, outputs). */
export const MAX_STORED_CHARS = 200_000;

/**
 * The text, or its head and a note of how many characters (code points) were left out. The cap
 * is in UTF-16 units; a cut never splits a surrogate pair (an emoji), so the head is one unit
 * shorter where it would.
 */
export function cappedText(text: string, maxChars = MAX_STORED_CHARS): string {
  if (text.length <= maxChars) return text;
  const head = headOf(text, maxChars);
  return `${head}${cutNote(characterCount(text.slice(head.length)))}`;
}

function cutNote(leftOut: number): string {
  return `\n… [${leftOut} more characters not kept in the run record]`;
}

/**
 * The inputs a saved record keeps only the head of: a run from this record (the side panel's
 * Re-run from here) would not have the user's text. The record says so itself (`cutInputs`);
 * a record saved before that field existed is read by the exact shape the store wrote: the first
 * `maxChars` characters, then the note, whose count makes the original length.
 */
export function cutInputsOf(record: RunRecord, maxChars = MAX_STORED_CHARS): string[] {
  if (Array.isArray(record.cutInputs)) return record.cutInputs.filter((name) => typeof name === 'string');
  return Object.entries(record.inputs)
    .filter(([, text]) => {
      const count = /^\n… \[(\d+) more characters not kept in the run record\]$/.exec(text.slice(maxChars))?.[1];
      return text.length > maxChars && count !== undefined && text.slice(maxChars) === cutNote(Number(count));
    })
    .map(([name]) => name);
}

/** The record as saved: every input, prompt and output capped at `maxChars`. */
export function recordForStorage(record: RunRecord, maxChars = MAX_STORED_CHARS): RunRecord {
  const cap = (text: string | undefined): string | undefined => (text === undefined ? undefined : cappedText(text, maxChars));
  const capStep = (step: StepRunResult): StepRunResult => ({
    ...step,
    ...(step.prompt !== undefined ? { prompt: cap(step.prompt) } : {}),
    ...(step.output !== undefined ? { output: cap(step.output) } : {}),
    ...(step.rawOutput !== undefined ? { rawOutput: cap(step.rawOutput) } : {}),
    ...(step.partialOutput !== undefined ? { partialOutput: cap(step.partialOutput) } : {}),
  });
  // A record saved again keeps the names it already had.
  const cut = new Set([...(record.cutInputs ?? []), ...Object.entries(record.inputs).filter(([, value]) => value.length > maxChars).map(([name]) => name)]);
  return {
    ...record,
    inputs: Object.fromEntries(Object.entries(record.inputs).map(([name, value]) => [name, cappedText(value, maxChars)])),
    cutInputs: [...cut],
    steps: record.steps.map(capStep),
    ...(record.output !== undefined ? { output: cap(record.output) } : {}),
    ...(record.composed !== undefined ? { composed: capComposed(record.composed, cap) } : {}),
  };
}

/** A composed generation as saved: its prompt, and its raw or partial text, capped. */
function capComposed(composed: ComposedGeneration, cap: (text: string | undefined) => string | undefined): ComposedGeneration {
  return {
    ...composed,
    prompt: cap(composed.prompt) ?? '',
    ...(composed.rawOutput !== undefined ? { rawOutput: cap(composed.rawOutput) } : {}),
    ...(composed.partialOutput !== undefined ? { partialOutput: cap(composed.partialOutput) } : {}),
  };
}
