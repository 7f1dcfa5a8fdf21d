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
 */
export type HoldPoint = 'launcher' | 'trainer-imports';

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

/** The pid in `mark` once it appears; a failure naming `at` if it has not within HOLD_WITHIN_MS. */
async function heldWithin(mark: string, at: HoldPoint): Promise<number> {
  try {
    return Number(await fileAppears(mark, AbortSignal.timeout(HOLD_WITHIN_MS)));
  } catch (err) {
    if ((err as Error).name !== 'AbortError' && (err as Error).name !== 'TimeoutError') throw err;
    throw new Error(`The job's python was not held at ${at} within ${HOLD_WITHIN_MS / 1000} s (no ${mark}).`);
  }
}

/**
 * The hold, in Python. The held process writes its pid to `<marks>/held` (renamed into place
 * whole), then waits; it exits by itself once `marks` is gone (the test process has ended
 * without cancelling it), so that no held job outlives its test.
 */
function sitecustomize(at: HoldPoint, marks: string): string {
  return `# Written by CoI Studio's test/helpers/heldPython.ts: holds this job's python at ${at} until a signal ends it.
import os
import sys
import time

MARKS = ${JSON.stringify(marks)}


def hold():
    temp = os.path.join(MARKS, "held.tmp")
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))
    os.replace(temp, os.path.join(MARKS, "held"))
    while os.path.isdir(MARKS):
        time.sleep(0.1)
    os._exit(3)


runs_trainer = any(arg.endswith("coi_train.py") for arg in sys.argv)
if ${JSON.stringify(at)} == "launcher" and runs_trainer and sys.argv[0] == "-m":
    hold()
elif ${JSON.stringify(at)} == "trainer-imports" and sys.argv[0].endswith("coi_train.py"):

    class HoldAtTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                hold()
            return None

    sys.meta_path.insert(0, HoldAtTorch())
`;
}
