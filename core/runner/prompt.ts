/**
 * Prompt rendering for a chain run.
 *
 * Stepwise: one prompt per step from its instruction, its bound inputs (named
 * when there are several) and its contract's format hint, as chat messages with a
 * system prompt, or in the Alpaca template that CoI-tuned models were trained on.
 * Composed (the paper's way): all instructions joined by " and then " in one
 * prompt; the model writes every intermediate output behind `Task i output`
 * markers.
 */
import type { ChainStep, StepSource } from '../chain/model';
import type { Prompt } from '../backends/types';
import { STEP_SEPARATOR } from '../records/paperRecords';
import { formatHint } from './contract';

export type PromptTemplate = 'chat' | 'alpaca';

export interface PromptOptions {
  /** `chat` (the model's chat template; default) or `alpaca` (raw completion text). */
  readonly template?: PromptTemplate;
  /** Replaces the default system prompt of chat prompts; an empty string sends none. */
  readonly systemPrompt?: string;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You carry out one instruction on the given input. Reply with the result only, without explanations or preamble.';

export const COMPOSED_SYSTEM_PROMPT =
  'You carry out a chain of instructions: the output of each task is the input of the next. ' +
  'Write each intermediate result after "Task i output and task i+1 input:" and the final result after "Task k output:".';

const ALPACA_WITH_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n';
const ALPACA_WITHOUT_INPUT = 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n';

/** The Alpaca prompt exactly as the paper's fine-tuning used it. */
export function alpacaPrompt(instruction: string, input: string): string {
  if (input.length === 0) return `${ALPACA_WITHOUT_INPUT}### Instruction:\n${instruction}\n\n### Response:\n`;
  return `${ALPACA_WITH_INPUT}### Instruction:\n${instruction}\n\n### Input:\n${input}\n\n### Response:\n`;
}

export interface RenderedPrompt {
  readonly prompt: Prompt;
  /** The prompt as plain text (for run records, hovers and cache keys). */
  readonly text: string;
}

export function sourceName(source: StepSource): string {
  return source.kind === 'input' ? source.name : source.id;
}

/** The input block: the single value as is, several values each under its name. */
export function renderInputs(sources: readonly StepSource[], values: ReadonlyMap<string, string>): string {
  if (sources.length === 1) return valueOf(sources[0]!, values);
  return sources.map((source) => `[${sourceName(source)}]\n${valueOf(source, values)}`).join('\n\n');
}

function valueOf(source: StepSource, values: ReadonlyMap<string, string>): string {
  const value = values.get(sourceName(source));
  if (value === undefined) throw new Error(`No value for "${sourceName(source)}"`);
  return value;
}

function renderPrompt(instruction: string, input: string, options: PromptOptions, defaultSystem: string): RenderedPrompt {
  if (options.template === 'alpaca') {
    const text = alpacaPrompt(instruction, input);
    return { prompt: { kind: 'completion', text }, text };
  }
  const system = options.systemPrompt ?? defaultSystem;
  const user = input.length > 0 ? `${instruction}\n\nInput:\n${input}` : instruction;
  const messages = system.length > 0 ? [{ role: 'system' as const, content: system }, { role: 'user' as const, content: user }] : [{ role: 'user' as const, content: user }];
  const text = messages.map((m) => `[${m.role}]\n${m.content}`).join('\n\n');
  return { prompt: { kind: 'chat', messages }, text };
}

/** The prompt of one step, given the values of the chain inputs and earlier step outputs. */
export function renderStepPrompt(step: ChainStep, values: ReadonlyMap<string, string>, options: PromptOptions = {}, schema?: unknown): RenderedPrompt {
  const hint = formatHint(step.contract, schema);
  const instruction = hint === undefined ? step.instruction.trim() : `${step.instruction.trim()}\n\n${hint}`;
  return renderPrompt(instruction, renderInputs(step.sources, values), options, DEFAULT_SYSTEM_PROMPT);
}

/** The chain as one instruction, as in the paper's records ("... and then ..."). */
export function composedInstruction(steps: readonly ChainStep[]): string {
  return steps.map((s) => s.instruction.trim()).join(STEP_SEPARATOR);
}

/** The single prompt of a composed run: the chain inputs named (those the run needs, in the chain's order) go into the input block. */
export function renderComposedPrompt(inputNames: readonly string[], steps: readonly ChainStep[], inputs: ReadonlyMap<string, string>, options: PromptOptions = {}): RenderedPrompt {
  const sources: StepSource[] = inputNames.map((name) => ({ kind: 'input', name }));
  const input = sources.length === 0 ? '' : renderInputs(sources, inputs);
  return renderPrompt(composedInstruction(steps), input, options, COMPOSED_SYSTEM_PROMPT);
}
