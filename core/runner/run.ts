/**
 * Runs a chain, stepwise (one model call per step) or composed (the whole chain
 * in one generation, split by the paper's `Task i output` markers), through the
 * step cache, with streaming events, cancellation and a run record.
 */
import { randomUUID } from 'node:crypto';
import type { Chain, ChainStep, Contract, SamplingParams } from '../chain/model';
import { readInputValue } from '../chain/inputValue';
import { composedProfileOf, inputsNeeded, runProfile, stepsUpTo } from '../chain/generated';
import { BackendError, type GenerateResult, type ModelBackend, type OutputConstraint, type Prompt } from '../backends/types';
import { splitStepOutputs, findMarkers } from '../records/markers';
import { cacheKey } from './cache';
import { contractToConstraint, resolveJsonSchema, validateOutput } from './contract';
import { stepDefinitionHashes } from './hash';
import { renderComposedPrompt, renderStepPrompt, sourceName } from './prompt';
import type { ComposedGeneration, FinishReason, RunOptions, RunRecord, StepError, StepRunResult } from './types';

/** A problem with the run request itself (unknown step, missing input): nothing was run. */
export class RunRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunRequestError';
  }
}

/**
 * Why a run request cannot run composed, or undefined. A composed run is one
 * generation of the whole chain: no step can be given instead of generated
 * (`pinned`), nor generated apart from the steps before it (`rerunFrom`).
 * Rejected rather than ignored, so nobody believes a pin was honoured.
 */
export function composedRunProblem(options: Pick<RunOptions, 'mode' | 'pinned' | 'rerunFrom'>): string | undefined {
  if (options.mode !== 'composed') return undefined;
  const pins = Object.keys(options.pinned ?? {});
  const asked = [...(pins.length > 0 ? [`pinned outputs (${pins.join(', ')})`] : []), ...(options.rerunFrom !== undefined ? [`a re-run from "${options.rerunFrom}"`] : [])];
  if (asked.length === 0) return undefined;
  return `A composed run generates the whole chain in one model call, so it cannot use ${asked.join(' or ')}: run stepwise for that.`;
}

/**
 * The model profile a composed run of `chain` uses (undefined: the run's default, as the
 * backend resolver picks it): runProfile of a composed run, the profile of the steps it generates
 * (up to `stopAfter`) when they all resolve to the same one, else the default (the run says so in
 * a record warning). Pure and synchronous, so that `coi run` can check the model files and key
 * destinations of just that profile before it runs. An unknown `stopAfter` counts every step
 * (the run itself refuses it).
 */
export function composedRunProfile(chain: Chain, options: Pick<RunOptions, 'stopAfter' | 'defaultProfile'> = {}): string | undefined {
  return runProfile(chain, { ...options, mode: 'composed' });
}

// The steps a run generates, the inputs it needs and the profile that names it: one rule each, in
// core/chain (the check of a test's givens uses them too); exported from here for the runner's callers.
export { inputsNeeded, runProfile, stepsGenerated, stepsUpTo, type RunNaming } from '../chain/generated';

/**
 * The pins of a run that stand for steps past `stopAfter`: the run does not reach those steps,
 * so it neither reads nor uses them (`coi run` says so on stderr; the editor's pins are kept for
 * its other runs). In chain order.
 */
export function pinsPastStop(chain: Chain, run: Pick<RunOptions, 'stopAfter' | 'pinned'>): readonly string[] {
  const reached = stepsUpTo(chain, run.stopAfter).length;
  return chain.steps.slice(reached).flatMap((step) => (run.pinned?.[step.id] !== undefined ? [step.id] : []));
}

/** A run request's values as the steps are fed them: see readRunValues. */
export interface RunValues {
  readonly inputs: Readonly<Record<string, string>>;
  readonly pinned: Readonly<Record<string, string>>;
}

/**
 * Every chain input the run needs (inputsNeeded: read by the steps it generates) has a value, and
 * typed inputs (number, label, list, json...) a valid one; an input given that the run does not
 * need is read too, and an input not given is no part of the run's values (nor of its record).
 * read as the editor reads a test's given; a pinned output is read the same way against its
 * step's output contract (a user wrote it: a list step's pin is a list, fed as `- ` lines), unless
 * its step is past `stopAfter` (pinsPastStop: neither read nor among the values). The
 * steps are fed the values as read (canonical). Throws a RunRequestError naming the first value
 * refused, in the input reader's words; the run calls it, and `coi run` before it says it runs.
 */
export function readRunValues(chain: Chain, options: Pick<RunOptions, 'inputs' | 'pinned' | 'baseDir' | 'stopAfter'>): RunValues {
  const missing = inputsNeeded(chain, options)
    .filter((i) => options.inputs[i.name] === undefined)
    .map((i) => i.name);
  if (missing.length > 0) throw new RunRequestError(`Missing value for chain input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}.`);
  const read = (contract: Contract, text: string, name: string, what: string): string => {
    const value = readInputValue(contract, text, name, safeSchema(contract, options.baseDir));
    if (!value.ok) throw new RunRequestError(`${what} ${value.problem}${value.detail !== undefined ? ` (${value.detail})` : ''}.`);
    return value.value;
  };
  const inputs: Record<string, string> = { ...options.inputs };
  for (const input of chain.inputs) {
    const text = options.inputs[input.name];
    if (text !== undefined) inputs[input.name] = read(input.contract, text, input.name, `Chain input "${input.name}"`);
  }
  const pinned: Record<string, string> = {};
  const unreached = new Set(pinsPastStop(chain, options));
  for (const [id, text] of Object.entries(options.pinned ?? {})) {
    if (unreached.has(id)) continue;
    const step = chain.steps.find((s) => s.id === id);
    pinned[id] = step === undefined ? text : read(step.contract, text, id, `The pinned output of step "${id}"`);
  }
  return { inputs, pinned };
}

/** The sampling parameters with their names in a `.coi` file (SAMPLING_KEYS), in that order. */
const SAMPLING_KEY_NAMES: readonly (readonly [keyof SamplingParams, string])[] = [
  ['temperature', 'temperature'],
  ['topP', 'top_p'],
  ['topK', 'top_k'],
  ['maxTokens', 'max_tokens'],
  ['seed', 'seed'],
  ['stop', 'stop'],
];

/** One model call, as the step cache sees it: what it is keyed on. */
interface ModelCall {
  readonly backend: ModelBackend;
  readonly prompt: Prompt;
  readonly params: SamplingParams;
  readonly constraint: OutputConstraint | undefined;
  readonly upstream: Readonly<Record<string, string>>;
  readonly mode: 'stepwise' | 'composed';
}

function cacheKeyOf(call: ModelCall): string {
  const { backend, prompt, params, constraint, upstream, mode } = call;
  return cacheKey({ identity: backend.identity, params, constraint, prompt, upstream, mode });
}

interface Generation {
  readonly text: string;
  readonly cached: boolean;
  readonly durationMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly finishReason?: FinishReason;
}

/**
 * How a composed run's record warning about its one generation cut short begins (the rest is
 * cutOutputWarning's): an evaluation, which counts cut outputs itself, knows it by this.
 */
export const COMPOSED_CUT_WARNING = 'The composed generation: ';

/**
 * The step warning of an output cut short (kept: it is what the model produced), or undefined for
 * a whole one: cut at its token bound (`length`), by the provider's content filter, or ended by
 * an error on the provider's side (the reasons as the server named them). A local model bounds an
 * answer by what the prompt leaves of its context too: one cut there, short of the `max_tokens`
 * asked, needs a larger context, not a larger max_tokens.
 */
export function cutOutputWarning(finishReason: FinishReason | undefined, completionTokens: number, call?: Pick<ModelCall, 'backend' | 'params'>): string | undefined {
  const tokens = `${completionTokens} token${completionTokens === 1 ? '' : 's'}`;
  switch (finishReason) {
    case 'length': {
      const cut = `the output was cut at ${tokens} (finish reason: length)`;
      const asked = call?.params.maxTokens;
      if (call?.backend.identity.backend === 'local' && asked !== undefined && completionTokens < asked) {
        return `${cut}: it filled what the prompt left of the model's context, short of the ${asked} tokens asked; give a larger context (--context N, or \`context N\` in the model profile) or shorten the input.`;
      }
      return `${cut}; raise the step's max_tokens or give --max-tokens N.`;
    }
    case 'content-filter':
      return `the provider's content filter cut the output after ${tokens} (finish reason: content_filter); what came before is kept, incomplete.`;
    case 'provider-error':
      return `the provider ended the output with an error after ${tokens} (finish reason: error); what came before is kept, incomplete: run the step again.`;
    default:
      return undefined;
  }
}

/** Cut short by the provider (its filter, an error there), not by the request: another call may answer whole, so it is not cached. */
function cutByProvider(finishReason: FinishReason | undefined): boolean {
  return finishReason === 'content-filter' || finishReason === 'provider-error';
}

/** One model call under way: when it started and the text streamed so far. */
interface CallAttempt {
  text: string;
  started: number;
}

/** What the run record keeps of a generation (a step's, or the composed one). */
function recordedGeneration(generation: Generation): Omit<ComposedGeneration, 'prompt'> {
  const { text, cached, durationMs, promptTokens, completionTokens } = generation;
  return { rawOutput: text, cached, durationMs, promptTokens, completionTokens };
}

class ChainRun {
  private readonly record: RunRecord;
  private readonly backends = new Map<string, Promise<ModelBackend>>();
  private readonly started = performance.now();
  /** The chain inputs as the steps are fed them (read by checkInputs). */
  private inputs: Readonly<Record<string, string>> = {};
  /** The pinned outputs as the later steps are fed them (read by checkInputs). */
  private pinned: Readonly<Record<string, string>> = {};

  constructor(
    private readonly chain: Chain,
    private readonly options: RunOptions,
  ) {
    const hashes = stepDefinitionHashes(chain);
    const startedAt = new Date().toISOString();
    this.record = {
      version: 1,
      id: `${startedAt.replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`,
      chain: chain.name,
      ...(options.file !== undefined ? { file: options.file } : {}),
      mode: options.mode ?? 'stepwise',
      template: options.template ?? 'chat',
      backend: '',
      model: '',
      inputs: { ...options.inputs },
      startedAt,
      durationMs: 0,
      status: 'ok',
      steps: chain.steps.map((step) => ({
        id: step.id,
        index: step.index,
        status: 'skipped',
        cached: false,
        pinned: false,
        durationMs: 0,
        promptTokens: 0,
        completionTokens: 0,
        definitionHash: hashes.get(step.id) ?? '',
      })),
      modelCalls: 0,
      ...(options.stopAfter !== undefined ? { stopAfter: options.stopAfter } : {}),
      ...(options.rerunFrom !== undefined ? { rerunFrom: options.rerunFrom } : {}),
    };
  }

  async run(): Promise<RunRecord> {
    const last = this.lastStepIndex();
    const rerunIndex = this.stepIndexOf(this.options.rerunFrom, 'rerunFrom');
    const composedProblem = composedRunProblem(this.options);
    if (composedProblem !== undefined) throw new RunRequestError(composedProblem);
    this.checkInputs();
    // A composed run is one generation: the record names the model it ran on.
    // A stepwise run, the model of its first generated step (runProfile): never a default no step runs on, whose backend is not asked for.
    const mainProfile = this.record.mode === 'composed' ? await this.composedProfile(last) : runProfile(this.chain, { stopAfter: this.options.stopAfter, pinned: this.pinned });
    const main = await this.backendFor(mainProfile);
    Object.assign(this.record, { backend: main.identity.backend, model: main.identity.model });
    if (this.record.mode === 'composed') await this.runComposed(last, mainProfile);
    else await this.runStepwise(last, rerunIndex);
    this.finish();
    return this.record;
  }

  private lastStepIndex(): number {
    if (this.chain.steps.length === 0) throw new RunRequestError(`The chain "${this.chain.name}" has no steps to run.`);
    return this.stepIndexOf(this.options.stopAfter, 'stopAfter') ?? this.chain.steps.length - 1;
  }

  private stepIndexOf(id: string | undefined, what: string): number | undefined {
    if (id === undefined) return undefined;
    const index = this.chain.steps.findIndex((s) => s.id === id);
    if (index < 0) throw new RunRequestError(`${what}: the chain has no step "${id}" (steps: ${this.chain.steps.map((s) => s.id).join(', ')}).`);
    return index;
  }

  /** The inputs and pinned outputs as read by readRunValues (canonical); the record keeps the inputs so. */
  private checkInputs(): void {
    const read = readRunValues(this.chain, this.options);
    this.inputs = read.inputs;
    this.pinned = read.pinned;
    Object.assign(this.record, { inputs: { ...read.inputs } });
  }

  /** The backend of a profile; no name: the run's default profile, else the resolver's own default. */
  private backendFor(profile: string | undefined): Promise<ModelBackend> {
    const source = this.options.backend;
    if (typeof source !== 'function') return Promise.resolve(source);
    const name = profile ?? this.options.defaultProfile;
    const key = name ?? '';
    let backend = this.backends.get(key);
    if (backend === undefined) {
      backend = Promise.resolve(source(name));
      this.backends.set(key, backend);
    }
    return backend;
  }

  /** Profile sampling, then the step's own, then the run's overrides. */
  private paramsFor(step: ChainStep | undefined, profileName = step?.profile ?? this.defaultProfile()): SamplingParams {
    const profile = this.chain.profiles.find((p) => p.name === profileName);
    const merged: Record<string, unknown> = { ...profile?.sampling, ...step?.sampling, ...this.options.params };
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    return merged as SamplingParams;
  }

  /** The profile a step without `model NAME` runs on. */
  private defaultProfile(): string | undefined {
    return this.options.defaultProfile ?? this.chain.defaultProfile;
  }

  /**
   * The profile of a composed run (undefined: the default), by composedProfileOf, with
   * a record warning naming the steps and profiles that disagree when they do.
   */
  private async composedProfile(last: number): Promise<string | undefined> {
    const steps = this.chain.steps.slice(0, last + 1);
    const fallback = this.defaultProfile();
    const choice = composedProfileOf(steps, fallback);
    if (!choice.disagree) return choice.profile;
    const profileOf = (step: ChainStep): string | undefined => step.profile ?? fallback;
    const names = new Set(steps.map(profileOf));
    const uses = steps.map((step) => `${profileOf(step) ?? 'the default'} for ${step.id}`).join(', ');
    const runsOn = fallback !== undefined ? `the default profile (${fallback})` : 'the default model';
    // With one model for every profile (`coi run --model`), only their sampling differs.
    const what = (await this.sameModel([...names])) ? `the sampling of ${runsOn}` : runsOn;
    this.warn(`The steps use different model profiles (${uses}); a composed run is one generation, so it runs on ${what}.`);
    return undefined;
  }

  /** Whether these profiles all resolve to one model (false when one cannot be resolved). */
  private async sameModel(profiles: readonly (string | undefined)[]): Promise<boolean> {
    try {
      const identities = await Promise.all(profiles.map(async (p) => JSON.stringify((await this.backendFor(p)).identity)));
      return new Set(identities).size === 1;
    } catch {
      return false;
    }
  }

  private warn(message: string): void {
    (this.record.warnings ??= []).push(message);
  }

  /** Local models get every grammar; remote servers only JSON Schemas (structured output), the rest is validated. */
  private constraintFor(backend: ModelBackend, constraint: OutputConstraint | undefined): OutputConstraint | undefined {
    if (constraint === undefined) return undefined;
    if (this.options.constrain !== undefined) return this.options.constrain(backend, constraint) ? constraint : undefined;
    return backend.constrainsDecoding === true || constraint.kind === 'json-schema' ? constraint : undefined;
  }

  private async runStepwise(last: number, rerunIndex: number | undefined): Promise<void> {
    const values = new Map(Object.entries(this.inputs));
    for (const step of this.chain.steps.slice(0, last + 1)) {
      const result = this.record.steps[step.index]!;
      if (this.options.signal?.aborted === true) {
        this.markCancelled(step.index, last);
        return;
      }
      const pinned = this.pinned[step.id];
      if (pinned !== undefined) {
        this.completePinned(result, pinned);
        values.set(step.id, pinned);
        continue;
      }
      const fresh = rerunIndex !== undefined && step.index >= rerunIndex;
      const ok = await this.runStep(step, result, values, fresh);
      if (!ok) {
        if (result.status === 'cancelled') this.markCancelled(step.index + 1, last);
        return;
      }
      values.set(step.id, result.output ?? '');
    }
  }

  /** A pinned step: `output` is the value as read (readRunValues), what later steps see. */
  private completePinned(result: StepRunResult, output: string): void {
    Object.assign(result, { status: 'ok', output, rawOutput: output, pinned: true });
    this.options.events?.onStepStart?.(result);
    this.options.events?.onStepText?.(result.id, output, output);
    this.options.events?.onStepEnd?.(result);
  }

  /** Runs one step; false when the run must stop here. */
  private async runStep(step: ChainStep, result: StepRunResult, values: ReadonlyMap<string, string>, fresh: boolean): Promise<boolean> {
    const missing = step.sources.map(sourceName).find((name) => !values.has(name));
    if (missing !== undefined) {
      return this.fail(result, { code: 'missing-input', message: `Step "${step.id}" reads "${missing}", which has no value in this run.` });
    }
    let schema: unknown;
    try {
      schema = resolveJsonSchema(step.contract, this.options.baseDir);
    } catch (error) {
      return this.fail(result, { code: 'contract', message: `Step "${step.id}": ${(error as Error).message}` });
    }
    const rendered = renderStepPrompt(step, values, this.promptOptions(), schema);
    result.prompt = rendered.text;
    result.status = 'ok';
    this.options.events?.onStepStart?.(result);
    const backend = await this.backendFor(step.profile);
    const constraint = this.constraintFor(backend, contractToConstraint(step.contract, schema));
    // The upstream values only key the cache.
    const upstream = this.options.cache !== undefined ? Object.fromEntries(step.sources.map((s) => [sourceName(s), values.get(sourceName(s)) ?? ''])) : {};
    const call: ModelCall = { backend, prompt: rendered.prompt, params: this.paramsFor(step), constraint, upstream, mode: 'stepwise' };
    const onStepText = this.options.events?.onStepText;
    let generation: Generation;
    const attempt: CallAttempt = { text: '', started: performance.now() };
    try {
      generation = await this.generate(call, fresh, onStepText !== undefined ? (chunk, soFar) => onStepText(step.id, chunk, soFar) : undefined, attempt);
    } catch (error) {
      // What the call took, and the text it had streamed: kept in the record, marked partial.
      result.durationMs = performance.now() - attempt.started;
      if (attempt.text !== '') result.partialOutput = attempt.text;
      return this.fail(result, this.backendFailure(step.id, error));
    }
    Object.assign(result, recordedGeneration(generation));
    if (generation.finishReason !== undefined) result.finishReason = generation.finishReason;
    const cutWarning = cutOutputWarning(generation.finishReason, generation.completionTokens, call);
    const cut = cutWarning !== undefined ? [cutWarning] : [];
    const validation = validateOutput(step.contract, generation.text, schema);
    if (!validation.ok) {
      if (cut.length > 0) result.warnings = cut;
      return this.fail(result, { code: 'contract', message: `Step "${step.id}" broke its output contract (${describeContract(step)}): ${validation.message}.` });
    }
    if (!generation.cached) this.store(call, generation);
    result.output = validation.value;
    if (validation.warnings || cut.length > 0) result.warnings = [...cut, ...(validation.warnings ?? [])];
    this.options.events?.onStepEnd?.(result);
    return true;
  }

  private promptOptions(): { template?: 'chat' | 'alpaca'; systemPrompt?: string } {
    return {
      ...(this.options.template !== undefined ? { template: this.options.template } : {}),
      ...(this.options.systemPrompt !== undefined ? { systemPrompt: this.options.systemPrompt } : {}),
    };
  }

  /**
   * A cache hit, or one model call streamed through `onText`. The call streams
   * even when nobody listens (a silent server is then noticed between chunks);
   * the text so far is kept in `attempt`, for the record of a call that fails.
   */
  private async generate(call: ModelCall, fresh: boolean, onText: ((chunk: string, soFar: string) => void) | undefined, attempt: CallAttempt = { text: '', started: 0 }): Promise<Generation> {
    const { backend, prompt, params, constraint } = call;
    const cache = this.options.cache;
    if (cache !== undefined && !fresh) {
      const hit = cache.get(cacheKeyOf(call));
      if (hit !== undefined) {
        onText?.(hit.text, hit.text);
        return { text: hit.text, cached: true, durationMs: 0, promptTokens: hit.promptTokens, completionTokens: hit.completionTokens, ...(hit.finishReason !== undefined ? { finishReason: hit.finishReason } : {}) };
      }
    }
    this.record.modelCalls++;
    const started = performance.now();
    const result: GenerateResult = await backend.generate({
      prompt,
      params,
      ...(constraint !== undefined ? { constraint } : {}),
      onText: (chunk) => {
        attempt.text += chunk;
        onText?.(chunk, attempt.text);
      },
      ...(this.options.signal !== undefined ? { signal: this.options.signal } : {}),
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
    });
    if (result.stopReason === 'cancelled' || this.options.signal?.aborted === true) throw new BackendError('cancelled', 'The run was cancelled.');
    return {
      text: result.text,
      cached: false,
      durationMs: result.durationMs > 0 ? result.durationMs : performance.now() - started,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      finishReason: result.stopReason,
    };
  }

  private store(call: ModelCall, generation: Generation): void {
    const cache = this.options.cache;
    if (cache === undefined || cutByProvider(generation.finishReason)) return;
    cache.keep(cacheKeyOf(call), {
      text: generation.text,
      promptTokens: generation.promptTokens,
      completionTokens: generation.completionTokens,
      ...(generation.finishReason !== undefined ? { finishReason: generation.finishReason } : {}),
      durationMs: generation.durationMs,
      createdAt: new Date().toISOString(),
    });
  }

  private backendFailure(stepId: string, error: unknown): StepError {
    if (this.options.signal?.aborted === true || (error instanceof BackendError && error.code === 'cancelled')) {
      return { code: 'cancelled', message: `Step "${stepId}" was cancelled.` };
    }
    if (error instanceof BackendError) return { code: 'backend', backendCode: error.code, ...(error.details?.status !== undefined ? { status: error.details.status } : {}), message: `Step "${stepId}": ${error.message}` };
    return { code: 'backend', message: `Step "${stepId}": ${error instanceof Error ? error.message : String(error)}` };
  }

  private fail(result: StepRunResult, error: StepError): false {
    result.status = error.code === 'cancelled' ? 'cancelled' : 'failed';
    result.error = error;
    this.options.events?.onStepEnd?.(result);
    return false;
  }

  private markCancelled(from: number, last: number): void {
    for (const result of this.record.steps.slice(from, last + 1)) {
      if (result.status === 'skipped') result.status = 'cancelled';
    }
  }

  private async runComposed(last: number, profile: string | undefined): Promise<void> {
    const steps = this.chain.steps.slice(0, last + 1);
    // The inputs the generated steps read (a composed run takes no pins): one left out (an input
    // only later steps read, or none) is neither in the prompt nor in the cache key.
    const names = inputsNeeded(this.chain, { stopAfter: this.options.stopAfter }).map((input) => input.name);
    const upstream = Object.fromEntries(names.map((name) => [name, this.inputs[name] ?? '']));
    const rendered = renderComposedPrompt(names, steps, new Map(Object.entries(upstream)), this.promptOptions());
    for (const result of this.record.steps.slice(0, last + 1)) {
      result.prompt = rendered.text;
      this.options.events?.onStepStart?.(result);
    }
    const backend = await this.backendFor(profile);
    const params = this.paramsFor(undefined, profile ?? this.defaultProfile());
    this.warnStepSampling(steps, params);
    const call: ModelCall = { backend, prompt: rendered.prompt, params, constraint: undefined, upstream, mode: 'composed' };
    let generation: Generation;
    const onComposedText = this.options.events?.onComposedText;
    const attempt: CallAttempt = { text: '', started: performance.now() };
    const ranOn = profile ?? this.defaultProfile();
    try {
      generation = await this.generate(call, false, onComposedText, attempt);
    } catch (error) {
      this.failComposed(steps, attempt, this.backendFailure(steps[0]!.id, error), { prompt: rendered.text, ...(ranOn !== undefined ? { profile: ranOn } : {}) });
      return;
    }
    this.record.composed = { prompt: rendered.text, ...(ranOn !== undefined ? { profile: ranOn } : {}), ...recordedGeneration(generation), ...(generation.finishReason !== undefined ? { finishReason: generation.finishReason } : {}) };
    const cut = cutOutputWarning(generation.finishReason, generation.completionTokens, call);
    if (cut !== undefined) this.warn(`${COMPOSED_CUT_WARNING}${cut}`);
    const allValid = this.splitComposed(steps, generation);
    if (allValid && !generation.cached) this.store(call, generation);
  }

  /**
   * A record warning naming the steps whose own sampling (`temperature 0.9` in a step) a composed
   * run does not use: its one generation has one set of sampling values, its profile's (`params`,
   * which the run's overrides such as `--max-tokens` are part of). A key the composed call sends
   * with the same value is not named, nor one the run's overrides replace in every mode.
   */
  private warnStepSampling(steps: readonly ChainStep[], params: SamplingParams): void {
    const overridden = this.options.params ?? {};
    const unused = steps.flatMap((step) => {
      const keys = SAMPLING_KEY_NAMES.filter(([key]) => step.sampling[key] !== undefined && overridden[key] === undefined && JSON.stringify(step.sampling[key]) !== JSON.stringify(params[key]));
      return keys.length > 0 ? [`${keys.map(([, name]) => name).join(', ')} of ${step.id}`] : [];
    });
    if (unused.length === 0) return;
    this.warn(`A composed run is one generation, so the steps' own sampling is not used (${unused.join('; ')}): it applies to stepwise runs.`);
  }

  /**
   * The one generation failed, was cancelled or timed out: every step fails with its error. As a
   * stepwise step keeps the text streamed before its call failed, each step keeps its part of
   * the text streamed so far (`partialOutput`, routed by the markers seen, as the live preview
   * routes it; text before any marker is the first step's); the last step carries the time. The
   * record's `composed` keeps the prompt and the whole text streamed (its `partialOutput`; no
   * `rawOutput`: the generation never ended).
   */
  private failComposed(steps: readonly ChainStep[], attempt: CallAttempt, failure: StepError, generation: Pick<ComposedGeneration, 'prompt' | 'profile'>): void {
    const durationMs = performance.now() - attempt.started;
    this.record.composed = { ...generation, ...(attempt.text !== '' ? { partialOutput: attempt.text } : {}), cached: false, durationMs, promptTokens: 0, completionTokens: 0 };
    const partial = liveComposedOutputs(attempt.text, steps.length);
    const message = failure.message.replace(/^Step "[^"]*"/, 'The composed generation');
    for (const step of steps) {
      const result = this.record.steps[step.index]!;
      const text = partial[step.index] ?? '';
      if (text !== '') result.partialOutput = text;
      if (step === steps[steps.length - 1]) result.durationMs = durationMs;
      this.fail(result, { ...failure, message });
    }
  }

  /** Splits the one generation into the steps' outputs; true when every step's output is there and valid. */
  private splitComposed(steps: readonly ChainStep[], generation: Generation): boolean {
    const split = splitStepOutputs(generation.text, steps.length, { allowPreamble: true });
    const outputs = split.ok ? split.outputs : outputsBefore(generation.text, (split.error.step ?? 1) - 1);
    let allValid = split.ok;
    for (const step of steps) {
      const result = this.record.steps[step.index]!;
      Object.assign(result, { cached: generation.cached, rawOutput: outputs[step.index] });
      const text = outputs[step.index];
      if (text === undefined) {
        const message = split.ok ? 'no output' : split.error.message;
        this.fail(result, { code: 'missing-marker', message: `Step "${step.id}": the composed output cannot be split: ${message}` });
        allValid = false;
        continue;
      }
      const schema = safeSchema(step.contract, this.options.baseDir);
      const validation = validateOutput(step.contract, text, schema);
      if (!validation.ok) {
        this.fail(result, { code: 'contract', message: `Step "${step.id}" broke its output contract (${describeContract(step)}): ${validation.message}.` });
        allValid = false;
        continue;
      }
      result.output = validation.value;
      if (validation.warnings) result.warnings = [...validation.warnings];
      result.status = 'ok';
      this.options.events?.onStepText?.(step.id, text, text);
      this.options.events?.onStepEnd?.(result);
    }
    // Tokens and time belong to the one generation; the last step carries them so sums stay right.
    const lastResult = this.record.steps[steps[steps.length - 1]!.index]!;
    Object.assign(lastResult, { durationMs: generation.durationMs, promptTokens: generation.promptTokens, completionTokens: generation.completionTokens });
    return allValid;
  }

  private finish(): void {
    const record = this.record;
    record.durationMs = performance.now() - this.started;
    const failed = record.steps.find((s) => s.status === 'failed');
    const cancelled = record.steps.find((s) => s.status === 'cancelled');
    if (cancelled !== undefined || this.options.signal?.aborted === true) {
      record.status = 'cancelled';
      record.error = cancelled?.error?.message ?? 'The run was cancelled.';
    } else if (failed !== undefined) {
      record.status = 'failed';
      record.error = failed.error?.message ?? `Step "${failed.id}" failed.`;
    }
    const lastOk = [...record.steps].reverse().find((s) => s.status === 'ok');
    if (record.status === 'ok' && lastOk?.output !== undefined) record.output = lastOk.output;
  }
}

/**
 * An `onText` for a call nobody watches: a call that streams gets the backend's silence
 * limit (an OpenAI-compatible server that stalls after its headers fails after 120 s).
 */
export function ignoreText(): void {}

/** Outputs of the first `count` steps when their markers are all there, in order. */
function outputsBefore(text: string, count: number): string[] {
  const markers = findMarkers(text);
  const outputs: string[] = [];
  for (let i = 0; i < count; i++) {
    const marker = markers[i];
    const next = markers[i + 1];
    if (marker === undefined || marker.step !== i + 1 || next === undefined) break;
    outputs.push(text.slice(marker.end, next.start).trim());
  }
  return outputs;
}

/** The contract's JSON Schema, or none when its file cannot be read. */
function safeSchema(contract: Contract, baseDir: string | undefined): unknown {
  try {
    return resolveJsonSchema(contract, baseDir);
  } catch {
    return undefined;
  }
}

export function describeContract(step: ChainStep): string {
  const c = step.contract;
  switch (c.kind) {
    case 'label':
      return `label [${c.labels.join(', ')}]`;
    default:
      return c.kind;
  }
}

/** Runs `chain` and returns its run record; failures of steps are in the record, never thrown. */
export async function runChain(chain: Chain, options: RunOptions): Promise<RunRecord> {
  return new ChainRun(chain, options).run();
}

/**
 * For live previews while a composed generation streams: the text so far routed
 * to steps by the markers seen so far (text before any marker goes to step 1).
 * Only a display aid; the final outputs come from the strict split.
 */
export function liveComposedOutputs(text: string, stepCount: number): string[] {
  const outputs: string[] = Array.from({ length: stepCount }, () => '');
  const markers = findMarkers(text).filter((m) => m.step >= 1 && m.step <= stepCount);
  if (markers.length === 0) {
    if (stepCount > 0) outputs[0] = text.trim();
    return outputs;
  }
  markers.forEach((marker, i) => {
    outputs[marker.step - 1] = text.slice(marker.end, markers[i + 1]?.start ?? text.length).trim();
  });
  return outputs;
}
