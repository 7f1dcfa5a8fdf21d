/**
 * Holds the real training process at one point of its start, so that a test's cancel lands
 * there for certain instead of by timing: the job's python is the real one, running the real
 * launcher and trainer, and it stays at that point until a signal ends it.
 *
 * The hold is a `sitecustomize` module on PYTHONPATH, which Python imports as it starts: in the
 * launcher (`python -m accelerate.commands.launch … coi_train.py …`, which the local engine
 * starts with the caller's environment) and in the trainer that the launcher starts (accelerate
 * passes the environment on). Nothing in coi knows of it: only a test that gives `env` to
 * `coi finetune start` is held.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileAppears } from './fileAppears';
import { tempDir } from './tempDir';

/**
 * Where the job's python is held:
 * - `launcher`: accelerate's launcher, as its interpreter starts (before it imports accelerate;
 *   the trainer not started). It has no SIGTERM handler: the cancel signal ends it.
 * - `trainer-imports`: the trainer (coi_train.py), at its first `import torch`, after it has set
 *   its SIGTERM handler ("first of all, before the imports that take seconds") and before it
 *   loads the model or trains a step.
 * - `{ afterStep: N }`: the trainer, once step N is logged (its metric line written, and any
 *   checkpoint of an earlier step saved), until a signal reaches it: a handler of the trainer's
 *   (SIGTERM, SIGUSR1: it then saves at the next step's end and stops) or one that ends it
 *   (SIGKILL). Once only: a resumed or requeued run of the same job trains on unheld.
 *   Without it, a test that waits for N metric lines and then signals the job can find the job
 *   finished on a loaded machine: the remaining steps take seconds.
 */
export type HoldPoint = 'launcher' | 'trainer-imports' | { readonly afterStep: number };

export interface PythonHold {
  /** For `coi finetune start`: PYTHONPATH with the hold first. */
  readonly env: { PYTHONPATH: string };
  /** Resolves with the pid of the held process once it is held there; rejects if it is not within `HOLD_WITHIN_MS`. */
  readonly held: Promise<number>;
}

/** How long a job may take to reach its hold (the trainer's start on a loaded machine) before the test fails, rather than hangs. */
const HOLD_WITHIN_MS = 120_000;

/** A hold at `at` for the next job started with `env`. */
export function holdPython(at: HoldPoint): PythonHold {
  const hook = tempDir();
  const marks = tempDir();
  writeFileSync(join(hook, 'sitecustomize.py'), sitecustomize(at, marks));
  const PYTHONPATH = [hook, process.env['PYTHONPATH']].filter((entry) => entry !== undefined && entry !== '').join(':');
  return { env: { PYTHONPATH }, held: heldWithin(join(marks, 'held'), at) };
}

/** The hold point in words, for a failure. */
function holdName(at: HoldPoint): string {
  return typeof at === 'string' ? at : `the end of step ${at.afterStep}`;
}

/** The pid in `mark` once it appears; a failure naming `at` if it has not within HOLD_WITHIN_MS. */
async function heldWithin(mark: string, at: HoldPoint): Promise<number> {
  try {
    return Number(await fileAppears(mark, AbortSignal.timeout(HOLD_WITHIN_MS)));
  } catch (err) {
    if ((err as Error).name !== 'AbortError' && (err as Error).name !== 'TimeoutError') throw err;
    throw new Error(`The job's python was not held at ${holdName(at)} within ${HOLD_WITHIN_MS / 1000} s (no ${mark}).`);
  }
}

/**
 * The hold, in Python. The held process writes its pid to `<marks>/held` (renamed into place
 * whole), then waits; it exits by itself once `marks` is gone (the test process has ended
 * without cancelling it), so that no held job outlives its test.
 */
function sitecustomize(at: HoldPoint, marks: string): string {
  const point = typeof at === 'string' ? at : 'after-step';
  const step = typeof at === 'string' ? 0 : at.afterStep;
  return `# Written by CoI Studio's test/helpers/heldPython.ts: holds this job's python at ${holdName(at)} until a signal ends (or, after a step, releases) it.
import os
import sys
import time

MARKS = ${JSON.stringify(marks)}
HELD = os.path.join(MARKS, "held")
POINT = ${JSON.stringify(point)}
STEP = ${step}
signals_received = []


def hold(until_signal=False):
    temp = os.path.join(MARKS, "held.tmp")
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))
    os.replace(temp, HELD)
    while os.path.isdir(MARKS):
        if until_signal and signals_received:
            return
        time.sleep(0.1)
    os._exit(3)


def hold_after_step():
    # The trainer's signal handlers note each signal here; transformers' callbacks, once step STEP is logged, wait for one.
    import importlib.machinery
    import signal

    set_handler = signal.signal

    def noting(signum, handler):
        if not callable(handler):
            return set_handler(signum, handler)

        def handle(received, frame):
            signals_received.append(received)
            return handler(received, frame)

        return set_handler(signum, handle)

    signal.signal = noting

    def hold_in(module):
        log = module.CallbackHandler.on_log

        def on_log(self, args, state, control, *rest, **named):
            result = log(self, args, state, control, *rest, **named)
            if state.global_step >= STEP and not os.path.exists(HELD):
                hold(until_signal=True)
            return result

        module.CallbackHandler.on_log = on_log

    class HoldAfterStep:
        def find_spec(self, name, path=None, target=None):
            if name != "transformers.trainer_callback":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                hold_in(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, HoldAfterStep())


runs_trainer = any(arg.endswith("coi_train.py") for arg in sys.argv)
if POINT == "launcher" and runs_trainer and sys.argv[0] == "-m":
    hold()
elif POINT == "trainer-imports" and sys.argv[0].endswith("coi_train.py"):

    class HoldAtTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                hold()
            return None

    sys.meta_path.insert(0, HoldAtTorch())
elif POINT == "after-step" and sys.argv[0].endswith("coi_train.py"):
    hold_after_step()
`;
}
