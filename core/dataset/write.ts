/**
 * Writes `TrainingExample`s in each dataset format.
 *
 * - `paper`: the paper's records exactly as its files are written (Python's
 *   `json.dumps(records, ensure_ascii=False)`: one line, `", "` and `": "` separators), then
 *   a final newline, so reading `coi_2.json` and writing it back gives the same bytes and a
 *   final newline (the paper's files end without one).
 * - `alpaca-jsonl`: `{instruction, input, output}` per line.
 * - `openai-chat`: `{messages: [system, user, assistant]}` per line, the fine-tuning
 *   API's format; system and user messages as the runner sends a chat prompt (so a
 *   tuned model sees at inference what it saw in training).
 * - `trl-prompt-completion`: `{prompt, completion}` per line, the prompt in the Alpaca
 *   template the paper fine-tuned with; TRL then computes the loss on the completion only.
 * - `trl-chat`: TRL's conversational prompt-completion, `{prompt: [system, user],
 *   completion: [assistant]}` per line (chat template applied by TRL, loss on the completion).
 */
import { alpacaPrompt, COMPOSED_SYSTEM_PROMPT, DEFAULT_SYSTEM_PROMPT } from '../runner/prompt';
import { isFinalAnswerOnly, userMessage } from './read';
import type { DatasetFormat, TrainingExample } from './types';

export interface WriteDatasetOptions {
  /** The system message of chat formats; '' writes none. Default: the runner's system prompt for the example's kind. */
  readonly systemPrompt?: string;
}

export function writeDataset(examples: readonly TrainingExample[], format: DatasetFormat, options: WriteDatasetOptions = {}): string {
  switch (format) {
    case 'paper':
      // The paper's files end without a newline; a file written here ends with one (as every text file should).
      return `[${examples.map(paperRecordJson).join(', ')}]\n`;
    case 'alpaca-jsonl':
      return jsonLines(examples, (e) => ({ instruction: e.instruction, input: e.input, output: e.output }));
    case 'openai-chat':
      return jsonLines(examples, (e) => ({ messages: [...systemMessages(e, options), { role: 'user', content: userMessage(e.instruction, e.input) }, { role: 'assistant', content: e.output }] }));
    case 'trl-prompt-completion':
      return jsonLines(examples, (e) => ({ prompt: alpacaPrompt(e.instruction, e.input), completion: e.output }));
    case 'trl-chat':
      return jsonLines(examples, (e) => ({
        prompt: [...systemMessages(e, options), { role: 'user', content: userMessage(e.instruction, e.input) }],
        completion: [{ role: 'assistant', content: e.output }],
      }));
  }
}

/** One record as Python's json.dumps writes it (the paper's files). */
function paperRecordJson(example: TrainingExample): string {
  return `{"instruction": ${JSON.stringify(example.instruction)}, "input": ${JSON.stringify(example.input)}, "output": ${JSON.stringify(example.output)}}`;
}

function jsonLines(examples: readonly TrainingExample[], row: (example: TrainingExample) => unknown): string {
  return examples.map((e) => JSON.stringify(row(e)) + '\n').join('');
}

/** The runner's system prompt for an example: the composed one for a chain whose output carries the step markers. */
export function systemPromptOf(example: TrainingExample): string {
  return example.steps.length > 1 && !isFinalAnswerOnly(example) ? COMPOSED_SYSTEM_PROMPT : DEFAULT_SYSTEM_PROMPT;
}

function systemMessages(example: TrainingExample, options: WriteDatasetOptions): { role: 'system'; content: string }[] {
  const content = options.systemPrompt ?? systemPromptOf(example);
  return content === '' ? [] : [{ role: 'system', content }];
}

/** The file name extension that suits a format. */
export function formatExtension(format: DatasetFormat): string {
  return format === 'paper' ? '.json' : '.jsonl';
}
