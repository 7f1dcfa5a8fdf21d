/**
 * Reads every training-data format into `TrainingExample`s, detecting the format from
 * the text: a JSON array is the paper's records (`[{instruction, input, output}, ...]`,
 * which is also Alpaca's JSON); JSON Lines are read row by row by their shape —
 * `{instruction, input, output}` (Alpaca JSONL), `{messages}` (OpenAI chat, also TRL's
 * conversational format), `{prompt, completion}` with strings (TRL prompt-completion)
 * or with message lists (TRL conversational prompt-completion, `trl-chat` here).
 *
 * Reading never throws: a malformed row is left out and reported with its line.
 */
import { arrayElementLines, parseJsonWithPosition } from '../records/jsonPosition';
import { splitStepOutputs } from '../records/markers';
import { finalAnswerInstructions, instructionProblem, splitInstruction, stepCountFromMarkers, STEP_SEPARATOR, withoutPosition } from '../records/paperRecords';
import { alpacaPrompt } from '../runner/prompt';
import type { DatasetFormat, DatasetIssue, DatasetReadResult, ExampleSource, Provenance, TrainingExample, TrainingStep } from './types';

export interface ReadDatasetOptions {
  /** Read as this format instead of detecting it. */
  readonly format?: DatasetFormat;
  /** Recorded in each example's provenance. */
  readonly file?: string;
  /**
   * Told how far the reading is: rows read of all of them (JSON Lines: its lines; a JSON
   * array: its records, once the array is parsed), every `PROGRESS_EVERY_ROWS` rows and at the end.
   */
  readonly onProgress?: (done: number, total: number) => void;
}

/** How many rows are read between two `onProgress` calls: cheap for a large file, often enough to redraw a line. */
export const PROGRESS_EVERY_ROWS = 2048;

type RowResult = TrainingExample | DatasetIssue;

/** Reads a dataset file's text. */
export function readDataset(text: string, options: ReadDatasetOptions = {}): DatasetReadResult {
  const body = text.replace(/^\uFEFF/, '');
  const format = options.format ?? detectFormat(body);
  const onProgress = options.onProgress ?? ((): void => undefined);
  const results = format === 'paper' && body.trimStart().startsWith('[') ? readJsonArray(body, options.file, onProgress) : readJsonLines(body, format, options.file, options.format !== undefined, onProgress);
  const examples: TrainingExample[] = [];
  const issues: DatasetIssue[] = [];
  for (const result of results) {
    if (isIssue(result)) issues.push(result);
    else examples.push(result);
  }
  return { format, examples, issues };
}

export function isIssue(value: RowResult): value is DatasetIssue {
  return 'message' in value;
}

/** The format of a dataset text: a JSON array is the paper's; JSON Lines go by the first row's shape. */
export function detectFormat(text: string): DatasetFormat {
  if (text.trimStart().startsWith('[')) return 'paper';
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const parsed = parseJsonWithPosition(line);
    if (!parsed.ok || !isObject(parsed.value)) continue;
    const shape = rowShape(parsed.value);
    if (shape !== undefined) return shape;
  }
  return 'alpaca-jsonl';
}

function rowShape(row: Record<string, unknown>): DatasetFormat | undefined {
  if ('messages' in row) return 'openai-chat';
  if ('prompt' in row || 'completion' in row) return Array.isArray(row['prompt']) || Array.isArray(row['completion']) ? 'trl-chat' : 'trl-prompt-completion';
  if ('instruction' in row || 'output' in row) return 'alpaca-jsonl';
  return undefined;
}

function readJsonArray(text: string, file: string | undefined, onProgress: (done: number, total: number) => void): RowResult[] {
  const parsed = parseJsonWithPosition(text);
  if (!parsed.ok) return [{ line: parsed.error.line, column: parsed.error.column, message: `invalid JSON: ${withoutPosition(parsed.error.message)}.` }];
  if (!Array.isArray(parsed.value)) return [{ line: 1, column: 1, message: `Expected a JSON array of {instruction, input, output} records, found ${describeType(parsed.value)}.` }];
  const lines = arrayElementLines(text);
  const total = parsed.value.length;
  const results = parsed.value.map((value, index) => {
    if (index % PROGRESS_EVERY_ROWS === 0) onProgress(index, total);
    const line = lines[index] ?? 1;
    const where = { source: 'paper' as const, index, line, ...(file === undefined ? {} : { file }) };
    const result = fromInstructionRow(value, where, `record ${index}`);
    return isIssue(result) ? { ...result, line, index } : result;
  });
  onProgress(total, total);
  return results;
}

/** Rows are read by their own shape, unless the format was given (`forced`): then every row must have its shape. */
function readJsonLines(text: string, format: DatasetFormat, file: string | undefined, forced: boolean, onProgress: (done: number, total: number) => void): RowResult[] {
  const spread = objectOverLines(text);
  if (spread !== undefined) return [spread];
  const results: RowResult[] = [];
  let index = 0;
  const rows = text.split(/\r?\n/);
  for (const [lineIndex, rawLine] of rows.entries()) {
    if (lineIndex % PROGRESS_EVERY_ROWS === 0) onProgress(lineIndex, rows.length);
    if (rawLine.trim() === '') continue;
    const line = lineIndex + 1;
    const parsed = parseJsonWithPosition(rawLine);
    if (!parsed.ok) {
      results.push({ line, column: parsed.error.column, index, message: `invalid JSON: ${withoutPosition(parsed.error.message)}.` });
    } else {
      const shape = forced || !isObject(parsed.value) ? format : (rowShape(parsed.value) ?? format);
      const where: Provenance = { source: sourceOf(shape), index, line, ...(file === undefined ? {} : { file }) };
      const result = readRow(parsed.value, shape, where, '');
      results.push(isIssue(result) ? { ...result, line, index } : result);
    }
    index++;
  }
  onProgress(rows.length, rows.length);
  return results;
}

/**
 * A file holding one JSON object written over several lines (pretty-printed) is not JSON Lines,
 * where each line is a row: one issue that says so, where reading it line by line gave an
 * "invalid JSON" for every line of the object.
 */
function objectOverLines(text: string): DatasetIssue | undefined {
  // Only the first row is looked at until it is a lone `{…` that does not parse: every JSON Lines
  // file is read through here, and the whole text is split once, by readJsonLines.
  const start = text.search(/\S/);
  if (start < 0 || text[start] !== '{') return undefined;
  const end = text.indexOf('\n', start);
  if (end < 0 || parseJsonWithPosition(text.slice(start, end).replace(/\r$/, '')).ok) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '').length;
  return { line: 1, column: 1, index: 0, message: `one JSON object written over ${lines} lines: JSON Lines hold one row per line. Write each row on a line of its own, or the rows as a JSON array.` };
}

/**
 * A row problem's message starts with its place when the location (FILE:LINE:COLUMN, which every
 * reader of the issues prints first) does not say it all: a JSON array's record index. A JSON Lines
 * row's place is its line, already in the location.
 */
function lead(place: string): string {
  return place === '' ? '' : `${place}: `;
}

function sourceOf(format: DatasetFormat): ExampleSource {
  return format === 'paper' || format === 'alpaca-jsonl' ? 'alpaca' : format;
}

function readRow(value: unknown, shape: DatasetFormat, where: Provenance, place: string): RowResult {
  switch (shape) {
    case 'paper':
    case 'alpaca-jsonl':
      return fromInstructionRow(value, where, place);
    case 'openai-chat':
      return fromMessagesRow(value, where, place);
    case 'trl-prompt-completion':
    case 'trl-chat':
      return fromPromptCompletionRow(value, where, place);
  }
}

/** `{instruction, input, output}`: the paper's record or an Alpaca row (input may be missing). */
function fromInstructionRow(value: unknown, where: Provenance, place: string): RowResult {
  if (!isObject(value)) return { message: `${lead(place)}expected an object with instruction, input and output, found ${describeType(value)}.` };
  const fields = ['instruction', 'input', 'output'] as const;
  for (const field of fields) {
    if (field === 'input' && !(field in value)) continue;
    if (!(field in value)) return { message: `${lead(place)}missing field "${field}".` };
    if (typeof value[field] !== 'string') return { message: `${lead(place)}field "${field}" must be a string, found ${describeType(value[field])}.` };
  }
  const instruction = value['instruction'] as string;
  const output = value['output'] as string;
  const empty = instructionProblem(instruction);
  if (empty !== undefined) return { message: `${lead(place)}${empty}` };
  return exampleFrom(instruction, typeof value['input'] === 'string' ? value['input'] : '', output, where);
}

interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

/** `{messages: [system?, user, assistant]}`: OpenAI's fine-tuning format (TRL reads it too). */
function fromMessagesRow(value: unknown, where: Provenance, place: string): RowResult {
  if (!isObject(value)) return { message: `${lead(place)}expected an object with "messages", found ${describeType(value)}.` };
  const messages = readMessages(value['messages'], `${lead(place)}"messages"`);
  if (typeof messages === 'string') return { message: messages };
  const turns = messages.filter((m) => m.role !== 'system');
  const user = turns[0];
  const assistant = turns[1];
  if (turns.length !== 2 || user?.role !== 'user' || assistant?.role !== 'assistant') {
    return { message: `${lead(place)}expected one user message and then one assistant message (after an optional system message), found ${turns.map((m) => m.role).join(', ') || 'none'}.` };
  }
  const { instruction, input } = splitUserMessage(user.content);
  const problem = instructionProblem(instruction, 'the instruction of the user message');
  if (problem !== undefined) return { message: `${lead(place)}${problem}` };
  return exampleFrom(instruction, input, assistant.content, where);
}

/** `{prompt, completion}`: strings (standard) or message lists (conversational). */
function fromPromptCompletionRow(value: unknown, where: Provenance, place: string): RowResult {
  if (!isObject(value)) return { message: `${lead(place)}expected an object with "prompt" and "completion", found ${describeType(value)}.` };
  for (const field of ['prompt', 'completion'] as const) if (!(field in value)) return { message: `${lead(place)}missing field "${field}".` };
  const prompt = value['prompt'];
  const completion = value['completion'];
  if (typeof prompt === 'string' && typeof completion === 'string') {
    const alpaca = parseAlpacaPrompt(prompt);
    const problem = instructionProblem(alpaca?.instruction ?? prompt, alpaca === undefined ? '"prompt"' : 'the instruction of "prompt"');
    if (problem !== undefined) return { message: `${lead(place)}${problem}` };
    return exampleFrom(alpaca?.instruction ?? prompt, alpaca?.input ?? '', completion, { ...where, source: 'trl-prompt-completion' });
  }
  if (Array.isArray(prompt) && Array.isArray(completion)) {
    const promptMessages = readMessages(prompt, `${lead(place)}"prompt"`);
    if (typeof promptMessages === 'string') return { message: promptMessages };
    const completionMessages = readMessages(completion, `${lead(place)}"completion"`);
    if (typeof completionMessages === 'string') return { message: completionMessages };
    const user = promptMessages.filter((m) => m.role !== 'system');
    const answer = completionMessages[0];
    if (user.length !== 1 || user[0]?.role !== 'user') return { message: `${lead(place)}"prompt" must hold one user message (after an optional system message).` };
    if (completionMessages.length !== 1 || answer?.role !== 'assistant') return { message: `${lead(place)}"completion" must hold one assistant message.` };
    const { instruction, input } = splitUserMessage(user[0].content);
    const problem = instructionProblem(instruction, 'the instruction of the user message');
    if (problem !== undefined) return { message: `${lead(place)}${problem}` };
    return exampleFrom(instruction, input, answer.content, { ...where, source: 'trl-chat' });
  }
  return { message: `${lead(place)}"prompt" and "completion" must both be strings or both be lists of messages, found ${describeType(prompt)} and ${describeType(completion)}.` };
}

function readMessages(value: unknown, place: string): ChatMessage[] | string {
  if (!Array.isArray(value)) return `${place} must be a list of messages, found ${describeType(value)}.`;
  const messages: ChatMessage[] = [];
  for (const [i, message] of value.entries()) {
    if (!isObject(message)) return `${place}[${i}] must be an object with role and content.`;
    const { role, content } = message;
    if (typeof role !== 'string' || !['system', 'user', 'assistant'].includes(role)) return `${place}[${i}]: "role" must be system, user or assistant, found ${JSON.stringify(role) ?? 'nothing'}.`;
    if (typeof content !== 'string') return `${place}[${i}]: "content" must be a string, found ${describeType(content)}.`;
    messages.push({ role, content });
  }
  return messages;
}

/** The user message as the runner writes it: the instruction, then "\n\nInput:\n" and the input. */
export function userMessage(instruction: string, input: string): string {
  return input.length > 0 ? `${instruction}\n\nInput:\n${input}` : instruction;
}

function splitUserMessage(content: string): { instruction: string; input: string } {
  const at = content.indexOf('\n\nInput:\n');
  if (at < 0) return { instruction: content, input: '' };
  return { instruction: content.slice(0, at), input: content.slice(at + '\n\nInput:\n'.length) };
}

/** The instruction and input of a prompt in the paper's Alpaca template; undefined for any other prompt. */
export function parseAlpacaPrompt(prompt: string): { instruction: string; input: string } | undefined {
  const withInput = /### Instruction:\n([\s\S]*)\n\n### Input:\n([\s\S]*)\n\n### Response:\n$/.exec(prompt);
  if (withInput !== null) {
    const [, instruction = '', input = ''] = withInput;
    if (alpacaPrompt(instruction, input) === prompt) return { instruction, input };
  }
  const withoutInput = /### Instruction:\n([\s\S]*)\n\n### Response:\n$/.exec(prompt);
  if (withoutInput !== null) {
    const instruction = withoutInput[1] ?? '';
    if (alpacaPrompt(instruction, '') === prompt) return { instruction, input: '' };
  }
  return undefined;
}

/**
 * An example from its three texts: a marked output is split into steps (with each
 * step's output). An unmarked one is the final answer of the steps its instruction
 * joins by `" and then "`, as `coi import` reads such a record (one step when there is
 * none): only the last step has its output. A marked output whose markers do not split
 * cleanly keeps the whole text as the target, the steps without outputs.
 */
export function exampleFrom(instruction: string, input: string, output: string, provenance: Provenance): TrainingExample {
  return { instruction, input, output, steps: stepsOf(instruction, output), provenance };
}

export function stepsOf(instruction: string, output: string): TrainingStep[] {
  const stepCount = stepCountFromMarkers(output);
  if (stepCount === 0) {
    const instructions = finalAnswerInstructions(instruction);
    return instructions.map((text, i) => (i === instructions.length - 1 ? { instruction: text, output: output.trim() } : { instruction: text }));
  }
  const instructions = splitInstruction(instruction, stepCount);
  const split = splitStepOutputs(output, stepCount);
  if (typeof instructions !== 'string' && split.ok) return instructions.map((text, i) => ({ instruction: text, output: split.outputs[i] ?? '' }));
  const parts = typeof instructions === 'string' ? instruction.split(STEP_SEPARATOR) : instructions;
  return parts.map((text) => ({ instruction: text }));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Whether an example holds only the final answer of a chain: several steps, but no step
 * markers in its output (the intermediate outputs are unknown). Such an example is trained
 * with the plain system prompt, since its target has no markers to write.
 */
export function isFinalAnswerOnly(example: TrainingExample): boolean {
  return example.steps.length > 1 && stepCountFromMarkers(example.output) === 0;
}
