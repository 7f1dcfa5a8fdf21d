/**
 * Runs a file's regular expression on untrusted text (a model's output) under a time limit.
 *
 * JavaScript's engine backtracks: a pattern such as `^(a|a)+$` takes minutes on 40 characters
 * (`'a'.repeat(40) + 'b'`), synchronously, so the CLI, the extension host or the worker running
 * it hangs and no Cancel reaches it. Runs keep JavaScript's semantics (a file's `matches` and
 * JSON Schema `pattern` are JavaScript regular expressions), so the same `RegExp.test` runs here,
 * inside `vm` with a timeout: V8 interrupts a regular expression that runs past it.
 *
 * Every call pays for that (V8 starts a watchdog: some 0.1 to 0.5 ms), and none is skipped: no
 * text is short enough to be safe from every pattern (`^(.*,){20}x` backtracks polynomially in
 * a high degree), and no cheap look at a pattern proves it linear (`\d+$` alone is quadratic on a
 * long line of digits). A run checks a handful of texts per model call, which takes seconds.
 */
import { Script, createContext, type Context } from 'node:vm';

/**
 * How long one pattern may run on one text. An ordinary pattern takes microseconds even on
 * megabytes; one that takes a second backtracks catastrophically and would take minutes or
 * more: a second stops it early enough that nobody waits, late enough that no sound pattern
 * on a big output is stopped.
 */
export const PATTERN_TIME_LIMIT_MS = 1000;

/** The limit in a user's words (`1 s`). */
export const PATTERN_TIME_LIMIT_TEXT = `${PATTERN_TIME_LIMIT_MS / 1000} s`;

/** What a bounded test found: `'timed out'` when the pattern was stopped at the limit. */
export type PatternVerdict = 'matched' | 'not matched' | 'timed out';

/** Why a pattern was stopped, and what to do (after "the pattern took longer than 1 s on … and was stopped: "). */
export const SLOW_PATTERN_ADVICE = 'it backtracks catastrophically, as a nested quantifier such as (a+)+ or (a|a)+ does; simplify it';

/** The context and script the tests run in: made once (a context costs milliseconds, a run microseconds). */
let sandbox: { readonly context: Context; readonly script: Script } | undefined;

function theSandbox(): { readonly context: Context; readonly script: Script } {
  sandbox ??= { context: createContext({ pattern: undefined, text: '' }), script: new Script('pattern.test(text)') };
  return sandbox;
}

/** Node's error when `timeout` stopped a script. */
function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/**
 * `pattern.test(text)` (the same call: flags and `lastIndex` as ever), stopped after `limitMs`.
 * Any other error (a stack overflow on a huge pattern) is thrown as `test` throws it.
 */
export function testBounded(pattern: RegExp, text: string, limitMs: number = PATTERN_TIME_LIMIT_MS): PatternVerdict {
  const { context, script } = theSandbox();
  context['pattern'] = pattern;
  context['text'] = text;
  try {
    return script.runInContext(context, { timeout: limitMs }) === true ? 'matched' : 'not matched';
  } catch (error) {
    if (isTimeout(error)) return 'timed out';
    throw error;
  } finally {
    // Keep no model output alive between runs.
    context['pattern'] = undefined;
    context['text'] = '';
  }
}
