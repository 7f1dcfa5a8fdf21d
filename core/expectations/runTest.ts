/** Runs one `test` block: the chain on the test's inputs, then every expectation. */
import type { Chain, ChainTest } from '../chain/model';
import { runFailure } from '../runner/failure';
import { runChain } from '../runner/run';
import type { RunOptions } from '../runner/types';
import { evaluateExpectations, testStatus, undecidedReason, type ExpectationOptions, type TestResult } from './evaluate';

export type TestRunOptions = Omit<RunOptions, 'inputs'> & Pick<ExpectationOptions, 'judge'>;

export async function runChainTest(chain: Chain, test: ChainTest, options: TestRunOptions): Promise<TestResult> {
  const started = performance.now();
  try {
    // A test's `model` line replaces the run's default profile for that test: its model and
    // its sampling for the steps that name no profile.
    const run = await runChain(chain, { ...options, ...(test.profile !== undefined ? { defaultProfile: test.profile } : {}), inputs: test.inputs });
    // A backend that failed (HTTP 500, no server) or an input with no value says nothing
    // about the chain: the test could not run, and judging its outputs would blame them.
    const failure = runFailure(run);
    if (failure !== undefined) return { test, status: 'error', expectations: [], run, error: failure, durationMs: performance.now() - started };
    const expectations = await evaluateExpectations(chain, test, run, {
      ...(options.judge !== undefined ? { judge: options.judge } : {}),
      ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    const status = testStatus(expectations);
    const error = status === 'error' ? { error: undecidedReason(expectations) } : {};
    return { test, status, expectations, run, ...error, durationMs: performance.now() - started };
  } catch (error) {
    return { test, status: 'error', expectations: [], error: (error as Error).message, durationMs: performance.now() - started };
  }
}
