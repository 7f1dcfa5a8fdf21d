/**
 * Helpers for the runner tests: chains built directly as the semantic model
 * (the parser has its own tests), a counting wrapper around a real backend, and
 * the local backend on the tiny generated model.
 */
import type { Chain, ChainStep, Contract, Expectation, ChainTest, StepSource } from '../../core/chain/model';
import type { GenerateRequest, GenerateResult, ModelBackend } from '../../core/backends/types';
import type { RunRecord, StepRunResult } from '../../core/runner/types';
import { LocalBackend } from '../../core/backends/local/localBackend';
import { WorkerHost } from '../../core/backends/local/workerHost';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';

const NO_SPAN = { start: 0, end: 0 };

export interface StepSpec {
  readonly id: string;
  readonly instruction?: string;
  readonly from?: readonly string[];
  readonly contract?: Contract;
  /** `model NAME` of the step. */
  readonly profile?: string;
}

/** A chain whose inputs are `inputs` and whose steps read `from` (default: the previous step / first input). */
export function makeChain(steps: readonly StepSpec[], inputs: readonly string[] = ['text'], tests: readonly ChainTest[] = []): Chain {
  const stepIds = new Set(steps.map((s) => s.id));
  const built: ChainStep[] = steps.map((spec, index) => {
    const defaultSource: StepSource = index === 0 ? { kind: 'input', name: inputs[0] ?? 'text' } : { kind: 'step', id: steps[index - 1]!.id };
    const sources: StepSource[] = spec.from?.map((name) => (stepIds.has(name) ? { kind: 'step', id: name } : { kind: 'input', name })) ?? [defaultSource];
    return {
      id: spec.id,
      index,
      instruction: spec.instruction ?? `Rewrite the text for step ${spec.id}.`,
      sources,
      contract: spec.contract ?? { kind: 'text' },
      contractDeclared: spec.contract !== undefined,
      ...(spec.profile !== undefined ? { profile: spec.profile } : {}),
      sampling: {},
      span: NO_SPAN,
      headerSpan: NO_SPAN,
    };
  });
  return {
    name: 'test_chain',
    profiles: [],
    inputs: inputs.map((name) => ({ name, contract: { kind: 'text' }, span: NO_SPAN })),
    steps: built,
    tests,
  };
}

export function expectation(target: string, matcher: Expectation['matcher'], value?: string, extra: Partial<Expectation> = {}): Expectation {
  return { target, matcher, negated: false, ...(value !== undefined ? { value } : {}), span: { start: 10, end: 20 }, ...extra };
}

/** Counts the calls that reach the real backend underneath. */
export class CountingBackend implements ModelBackend {
  calls = 0;
  readonly prompts: GenerateRequest[] = [];
  constructor(private readonly inner: ModelBackend) {}
  get identity() {
    return this.inner.identity;
  }
  get constrainsDecoding() {
    return this.inner.constrainsDecoding;
  }
  generate(request: GenerateRequest): Promise<GenerateResult> {
    this.calls++;
    this.prompts.push(request);
    return this.inner.generate(request);
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

export interface TinyLocal {
  readonly host: WorkerHost;
  readonly backend: LocalBackend;
  dispose(): Promise<void>;
}

/** The local backend on the tiny model, 1 thread, greedy, short answers. */
export function tinyLocalBackend(maxTokens = 12): TinyLocal {
  const host = new WorkerHost({ workerPath: workerScriptPath(), idleTimeoutMs: 0 });
  const backend = new LocalBackend({
    host,
    model: { path: tinyModelPath(), threads: 1, contextSize: 1024, gpu: 'cpu' },
    defaults: { temperature: 0, maxTokens },
  });
  return {
    host,
    backend,
    dispose: async () => {
      await backend.dispose();
      await host.dispose();
    },
  };
}

/** A step as a run records it (nothing cached or pinned, no tokens counted); `output` left out when undefined. */
export function stepResult(id: string, index: number, output: string | undefined, status: StepRunResult['status'] = 'ok'): StepRunResult {
  return { id, index, status, ...(output !== undefined ? { output } : {}), cached: false, pinned: false, durationMs: 0, promptTokens: 0, completionTokens: 0, definitionHash: '' };
}

/** A finished stepwise run of these steps, one model call each, its output the last step's. */
export function runOf(steps: readonly StepRunResult[]): RunRecord {
  const output = steps.at(-1)?.output;
  return { version: 1, id: 'r', chain: 'c', mode: 'stepwise', template: 'chat', backend: 'local', model: 'm', inputs: {}, startedAt: '', durationMs: 0, status: 'ok', steps: [...steps], ...(output !== undefined ? { output } : {}), modelCalls: steps.length };
}
