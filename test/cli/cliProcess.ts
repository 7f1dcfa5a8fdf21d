/**
 * Runs the real `coi` command (`node bin/coi.js`, which loads the esbuild bundle
 * dist/cli.js) in a child process. The bundle is rebuilt with `node scripts/build.mjs`
 * when a source under cli/ or core/ is newer, once, under a lock, so that test files
 * running in parallel never load a half-written bundle.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newestSource, repoPath, repoRoot } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bundleIsFresh(): boolean {
  const bundle = repoPath('dist', 'cli.js');
  if (!existsSync(bundle)) return false;
  return statSync(bundle).mtimeMs >= Math.max(newestSource(repoPath('cli')), newestSource(repoPath('core')));
}

function withLock(action: () => void): void {
  const lock = join(tmpdir(), `coi-cli-build-${Buffer.from(repoRoot).toString('hex').slice(-32)}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is building: wait for it (a short synchronous pause).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      if (Date.now() - (statSafe(lock) ?? Date.now()) > 120_000) rmdirSync(lock); // a stale lock from a killed run
    }
  }
  try {
    action();
  } finally {
    rmdirSync(lock);
  }
}

function statSafe(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

let checked = false;

/** Builds dist/cli.js when it is older than the sources. */
export function ensureBundle(): void {
  if (checked) return;
  withLock(() => {
    if (bundleIsFresh()) return;
    const build = spawnSync(process.execPath, [repoPath('scripts', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`node scripts/build.mjs failed:\n${build.stderr}`);
  });
  checked = true;
}

/**
 * Runs `coi ...args` in `cwd` (default: a fresh temporary directory), with `input` (text or bytes) on its standard input.
 * A command still running after `timeoutMs` (default 2 minutes) is killed with SIGKILL, which a hung
 * process cannot ignore (a synchronous loop never runs its SIGTERM handler): its `code` is then null.
 */
export function coi(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string | Uint8Array; timeoutMs?: number } = {}): CliResult {
  ensureBundle();
  const result = spawnSync(process.execPath, [repoPath('bin', 'coi.js'), ...args], {
    cwd: options.cwd ?? tempDir(),
    encoding: 'utf8',
    env: { ...process.env, COI_DEBUG: '', ...options.env },
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 120_000,
    killSignal: 'SIGKILL',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `coi ...args` in `cwd` under a file size limit of `blocks` (`ulimit -f`: 512 or 1024 bytes
 * each, as the shell counts): a write past it fails with EFBIG, as on a full disk. POSIX only.
 */
export function coiWithFileSizeLimit(args: readonly string[], cwd: string, blocks: number): CliResult {
  ensureBundle();
  const result = spawnSync('sh', ['-c', `ulimit -f ${blocks} && exec "$@"`, 'sh', process.execPath, repoPath('bin', 'coi.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, COI_DEBUG: '' },
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Root reads and writes any folder: a test of a folder coi cannot read or write runs coi as
 * nobody there (the suite runs as root in CI), from a copy of the command in a folder nobody can
 * read (the checkout may sit in a folder only root enters). The copy's `bin/coi.js` and the
 * spawn options that run it as nobody (none when the tests do not run as root).
 */
export function coiForAnotherUser(): { readonly bin: string; readonly asUser: { uid?: number; gid?: number } } {
  ensureBundle();
  const command = tempDir();
  chmodSync(command, 0o755);
  mkdirSync(join(command, 'bin'));
  mkdirSync(join(command, 'dist'));
  for (const file of ['bin/coi.js', 'bin/require-bundle.js', 'dist/cli.js']) copyFileSync(repoPath(...file.split('/')), join(command, file));
  return { bin: join(command, 'bin', 'coi.js'), asUser: process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {} };
}

/**
 * `coi ...args` without blocking the event loop, for tests whose own servers must keep
 * answering meanwhile; `onStdout` sees the stdout so far after each chunk (to signal the child).
 */
export function coiAsync(
  args: readonly string[],
  options: {
    cwd: string;
    env?: Record<string, string>;
    onStdout?: (stdout: string, child: ChildProcess) => void;
    onSpawn?: (child: ChildProcess) => void;
    /** Another user's copy of the command (`coiForAnotherUser`); `env` then replaces the environment. */
    asAnotherUser?: ReturnType<typeof coiForAnotherUser>;
  },
): Promise<CliResult> {
  ensureBundle();
  return new Promise((resolve, reject) => {
    const other = options.asAnotherUser;
    const child =
      other === undefined
        ? spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd: options.cwd, env: { ...process.env, COI_DEBUG: '', ...options.env } })
        : spawn(process.execPath, [other.bin, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env }, ...other.asUser });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `coi ARGS` in `cwd`, sending SIGINT (Ctrl-C) once standard error shows `when`. */
export function coiInterrupted(args: readonly string[], cwd: string, when: RegExp, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  ensureBundle();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd, env: { ...process.env, COI_DEBUG: '', ...env } });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stderr }));
  });
}

/** Whether util-linux's `script` is here: it gives a command a pseudo-terminal (Debian has it always; macOS's `script` differs). */
export function terminalAvailable(): boolean {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && /util-linux/.test(probe.stdout);
}

/**
 * `coi ...args` with its standard output on a terminal (a pseudo-terminal from util-linux's
 * `script`), as when a person runs it: `stdout` is what reached the terminal (its line feeds as
 * the terminal driver sends them, \r\n, turned back into \n); standard error goes to a file, so
 * `stderr` is apart — or, with `stderrToo`, to the terminal as well (`stdout` then holds both).
 * With `interruptWhen`, `coi` gets SIGINT (as Ctrl-C sends it) once the terminal shows that.
 * Needs `terminalAvailable()`.
 */
export function coiOnTerminal(args: readonly string[], options: { cwd: string; env?: Record<string, string>; stderrToo?: boolean; interruptWhen?: RegExp }): Promise<CliResult> {
  ensureBundle();
  const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
  const scratch = tempDir();
  const errFile = join(scratch, 'stderr.txt');
  // The shell's process id is coi's once it execs it: the one to interrupt.
  const pidFile = join(scratch, 'pid');
  const command = `echo $$ >${quote(pidFile)}; exec ` + [process.execPath, repoPath('bin', 'coi.js'), ...args].map(quote).join(' ') + (options.stderrToo === true ? '' : ` 2>${quote(errFile)}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
      cwd: options.cwd,
      env: { ...process.env, COI_DEBUG: '', SHELL: '/bin/sh', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let scriptErrors = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.interruptWhen === undefined || interrupted || !options.interruptWhen.test(stdout)) return;
      interrupted = true;
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (scriptErrors += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let stderr = scriptErrors;
      try {
        stderr += readFileSync(errFile, 'utf8');
      } catch {
        // The shell never ran the command: script's own words say why.
      }
      resolvePromise({ code, stdout: stdout.replace(/\r\n/g, '\n'), stderr });
    });
  });
}
