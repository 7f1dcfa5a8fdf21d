/**
 * The Python side of the local TRL engine: where our scripts are, and the virtual
 * environment `coi finetune setup` makes OUTSIDE the repository, in
 * `~/.cache/coi-studio/python/<hash of requirements.txt>/` (a changed pin makes a new one).
 * The local wheel store of MACHINE-NOTES (`/opt/pypi/simple`) is used when present, the
 * public index otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userCacheRoot } from '../syntax/cacheFolders';
import { makeDirectories } from '../syntax/directories';
import { childProcessEnv } from './childEnv';

/** Marker written when the install finished: a half-made environment (killed `setup`) is redone. */
const READY_MARKER = '.coi-ready';
const LOCAL_INDEX = '/opt/pypi/simple';
const LOCAL_EXTRA_INDEX = '/opt/pypi-more/simple';

export class PythonSetupError extends Error {
  override name = 'PythonSetupError';
}

/** The folder with coi_train.py and requirements.txt: `python/` at the package root. */
export function pythonScriptsDir(env: Readonly<Record<string, string | undefined>> = process.env, from = __dirname): string {
  if (env['COI_PYTHON_SCRIPTS'] !== undefined) return env['COI_PYTHON_SCRIPTS'];
  let dir = from;
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'python', 'coi_train.py'))) return join(dir, 'python');
    dir = dirname(dir);
  }
  throw new PythonSetupError(`Cannot find CoI Studio's python/ folder (coi_train.py) above ${from}; set COI_PYTHON_SCRIPTS.`);
}

export interface VenvLocation {
  readonly dir: string;
  readonly python: string;
  readonly requirements: string;
  readonly ready: boolean;
}

export function venvLocation(env: Readonly<Record<string, string | undefined>> = process.env): VenvLocation {
  const requirements = join(pythonScriptsDir(env), 'requirements.txt');
  const hash = createHash('sha256').update(readFileSync(requirements)).digest('hex').slice(0, 16);
  const dir = join(userCacheRoot(env), 'python', hash);
  return { dir, python: join(dir, 'bin', 'python'), requirements, ready: existsSync(join(dir, READY_MARKER)) };
}

/** The first `python3`/`python` that is ≥ 3.10, or a one-line error saying what was found. */
export function findSystemPython(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const candidates = env['COI_PYTHON'] !== undefined ? [env['COI_PYTHON']] : ['python3', 'python'];
  const found: string[] = [];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', env: childProcessEnv(process.env) });
    if (probe.status !== 0) continue;
    const version = probe.stdout.trim();
    const [major, minor] = version.split('.').map(Number);
    if ((major ?? 0) > 3 || ((major ?? 0) === 3 && (minor ?? 0) >= 10)) return candidate;
    found.push(`${candidate} ${version}`);
  }
  const named = env['COI_PYTHON'];
  if (named !== undefined && found.length === 0) throw new PythonSetupError(`Python ≥ 3.10 is needed for fine-tuning: COI_PYTHON names '${named}', which is missing or cannot be run as Python; set COI_PYTHON to a Python ≥ 3.10 interpreter, or unset it to use python3 on PATH.`);
  throw new PythonSetupError(`Python ≥ 3.10 is needed for fine-tuning${found.length > 0 ? ` (found ${found.join(', ')})` : ' and none was found on PATH'}; install it or set COI_PYTHON.`);
}

/**
 * Why a job of `engine` cannot start for want of the training environment (the local and Slurm
 * engines run coi_train.py in it; Together needs none), or undefined. Asked before a job folder
 * is made: a job that could only fail would stay, failed, with no checkpoint to resume from.
 */
export function trainingEnvironmentRefusal(engine: string, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  if (engine === 'together' || venvLocation(env).ready) return undefined;
  return `The training environment is not set up: run 'coi finetune setup' first${engine === 'slurm' ? ' (on a path every node sees)' : ''}.`;
}

export interface SetupOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** Each line pip prints. */
  readonly onOutput?: (line: string) => void;
}

/** Makes (or reuses) the environment; resolves to its location. */
export async function ensureVenv(options: SetupOptions = {}): Promise<VenvLocation> {
  const env = options.env ?? process.env;
  const location = venvLocation(env);
  if (location.ready) return location;
  const systemPython = findSystemPython(env);
  rmSync(location.dir, { recursive: true, force: true });
  makeDirectories(dirname(location.dir));
  await runChecked(systemPython, ['-m', 'venv', location.dir], options);
  // The public index first would wait through DNS retries on an offline machine: use the store alone when it is there.
  const index = existsSync(LOCAL_INDEX) ? ['--index-url', `file://${LOCAL_INDEX}`, ...(existsSync(LOCAL_EXTRA_INDEX) ? ['--extra-index-url', `file://${LOCAL_EXTRA_INDEX}`] : [])] : [];
  await runChecked(location.python, ['-m', 'pip', 'install', '--disable-pip-version-check', ...index, '-r', location.requirements], options);
  writeFileSync(join(location.dir, READY_MARKER), new Date().toISOString() + '\n');
  return { ...location, ready: true };
}

function runChecked(command: string, args: readonly string[], options: SetupOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childProcessEnv(process.env), signal: options.signal });
    const tail: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '' || line.includes('is ignored: it is neither a file nor a directory')) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        options.onOutput?.(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(err.name === 'AbortError' ? err : new PythonSetupError(`Cannot run ${command}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new PythonSetupError(`${command} ${args.slice(0, 3).join(' ')} failed (exit ${code ?? 'signal'}):\n${tail.join('\n')}`));
    });
  });
}
