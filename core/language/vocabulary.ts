/** The words of the language an editor offers, with one-line documentation. */
import type { ContractKind, MatcherKind } from '../syntax/ast';
import { CONTRACT_OPTIONS, LIST_ITEM_KINDS } from '../chain/contracts';
import { GPU_SETTINGS } from '../chain/model';
import { PROVIDERS, type ProfileKey, type SamplingKey } from '../chain/profiles';
import { INPUT_KINDS, TASK_CATEGORIES as LEXICON_TASK_CATEGORIES } from '../lexicon/lexicon';

export const TOP_LEVEL_DOCS: Readonly<Record<string, string>> = {
  chain: "The chain's name (an identifier or a string). Exactly one per file.",
  description: 'Free text describing the chain.',
  model: 'A model profile: a local GGUF model or an OpenAI-compatible endpoint. The first profile is the default.',
  input: 'A named chain input and its type: `input article: text lang=en`.',
  step: 'A step of the chain: an instruction, its input binding and its output contract.',
  test: 'A test: values for the chain inputs and expectations on the outputs.',
};

export const STEP_MEMBER_DOCS: Readonly<Record<string, string>> = {
  instruction: 'What the step asks the model to do (usually a `"""` text block).',
  from: 'The input binding: chain inputs and earlier steps this step reads (default: the previous step).',
  output: 'The output contract: text, label [..], list, json, number, boolean or code.',
  model: 'Run this step with another model profile.',
  task: 'Declare the task category (overrides inference).',
  needs: 'Declare what the step consumes (overrides inference).',
};

/** Keyed by the checker's sampling keys, so completion offers exactly what it accepts. */
export const SAMPLING_DOCS: Readonly<Record<SamplingKey, string>> = {
  temperature: 'Sampling temperature (0 = deterministic).',
  top_p: 'Nucleus sampling: keep the smallest set of tokens whose probability adds up to p.',
  top_k: 'Sample among the k most likely tokens.',
  max_tokens: 'The most tokens to generate.',
  seed: 'Random seed (repeatable sampling).',
  stop: 'Stop sequences: `stop ["\\n\\n"]`.',
};

export const MODEL_PROPERTY_DOCS: Readonly<Record<ProfileKey, string>> = {
  provider: '`local` (node-llama-cpp, a GGUF file) or `openai` (any OpenAI-compatible API).',
  path: 'Local: a GGUF file (relative to this file) or an `hf:` URI.',
  lora: 'Local: a LoRA adapter GGUF (relative to this file) applied on the model, and an optional scale: `lora "adapter.gguf" 0.8` (`coi finetune gguf` converts a LoRA job\'s adapter).',
  context: 'Local: context size in tokens.',
  gpu: 'Local: auto | cuda | metal | vulkan | cpu.',
  gpu_layers: 'Local: auto | max | a number of layers to offload.',
  threads: 'Local: CPU threads.',
  base_url: 'OpenAI-compatible: the API base URL, e.g. "http://127.0.0.1:11434/v1".',
  model: 'OpenAI-compatible: the model id.',
  api_key_env: 'OpenAI-compatible: the NAME of the environment variable holding the API key (never the key itself).',
  api_key_header:
    'OpenAI-compatible: the HTTP header the API key goes in, e.g. "api-key" (Azure OpenAI) or "x-api-key": any header but `Authorization` gets the bare key. Default: "api-key" for `*.openai.azure.com` and `*.cognitiveservices.azure.com`, else `Authorization: Bearer KEY`.',
  ...SAMPLING_DOCS,
};

export const MODEL_PROPERTY_VALUES: Readonly<Record<string, readonly string[]>> = {
  provider: PROVIDERS,
  gpu: GPU_SETTINGS,
  gpu_layers: ['auto', 'max'],
};

export const TEST_MEMBER_DOCS: Readonly<Record<string, string>> = {
  given: 'Set a chain input: `given article = """..."""`.',
  expect: 'An expectation on a step output or on the final `output`.',
  model: 'Run this test with another model profile.',
};

export const CONTRACT_DOCS: Readonly<Record<ContractKind, string>> = {
  text: 'Free text. Options: lang=CODE, max_words=N, max_chars=N.',
  label: 'One label of a closed set: `label [positive, negative]`.',
  list: 'A list. Options: item=text|number, min_items=N, max_items=N.',
  json: 'JSON. Options: schema=TEXT (inline JSON Schema) or schema_file="path.json".',
  number: 'A number. Options: min=N, max=N, integer=true.',
  boolean: 'true or false.',
  code: 'Source code. Option: lang=NAME.',
};

/** The options each contract kind takes: the checker's list, so completion never offers one it rejects. */
export { CONTRACT_OPTIONS };

export const OPTION_VALUES: Readonly<Record<string, readonly string[]>> = {
  item: LIST_ITEM_KINDS,
  integer: ['true', 'false'],
};

export const MATCHER_DOCS: Readonly<Record<MatcherKind, string>> = {
  equals: 'The output equals the text exactly.',
  contains: 'The output contains the text.',
  matches: "The output matches the regular expression (write it raw: `'^\\d+$'`).",
  label: 'The output is this label (of the step’s label set).',
  one_of: 'The output is one of the labels: `one_of [a, b]`.',
  valid_json: "The output parses as JSON (a fenced code block allowed) and, on a json step, satisfies its schema.",
  rouge_l: 'ROUGE-L F-measure against a reference is at least the threshold: `rouge_l >= 0.4 """..."""`.',
  judge: 'An LLM judge checks the output against the criteria.',
};

/** Task categories a step can declare (`task CATEGORY`): the composability lexicon's. */
export const TASK_CATEGORIES: readonly string[] = LEXICON_TASK_CATEGORIES;

/** What a step can declare it consumes (`needs KIND`). */
export const NEEDS_KINDS: readonly string[] = INPUT_KINDS;

/** Common ISO 639-1 codes offered after `lang=` (any code is accepted). */
export const COMMON_LANGUAGES: readonly string[] = ['en', 'fr', 'de', 'es', 'it', 'pt', 'nl', 'ja', 'zh', 'ko', 'ru', 'ar', 'hi'];
