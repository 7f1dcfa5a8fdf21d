/**
 * A real one-node Slurm cluster on this machine for the Slurm engine's tests: Debian's
 * `slurm-wlm` and `munge` with everything in a temporary folder — a generated slurm.conf
 * (the node is this host as `slurmd -C` describes it), a fresh munge key, `munged` on its own
 * socket, `slurmctld` and `slurmd` daemonized with pid files on free ports. `startSlurm`
 * resolves once `sinfo` shows the node idle; `stop` ends every daemon it started, by its pid.
 * Commands see the cluster through `env` (SLURM_CONF). Daemons run as root (SlurmUser root).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';

const DAEMONS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo', 'scontrol'];
const SBIN = ['/usr/sbin', '/sbin'];

/** Why this machine cannot run the cluster (a skip reason), or undefined when it can. */
export function slurmUnavailable(): string | undefined {
  const missing = DAEMONS.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { env: { ...process.env, PATH: pathWithSbin() } }).status !== 0);
  if (missing.length > 0) return `skipped: Slurm is not installed (${missing.join(', ')} missing; apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'skipped: the test Slurm cluster runs its daemons as root (SlurmUser=root)';
  return undefined;
}

export interface SlurmCluster {
  /** The environment for Slurm commands and for `coi` (SLURM_CONF, PATH with sbin). */
  readonly env: Record<string, string>;
  readonly dir: string;
  stop(): Promise<void>;
}

function pathWithSbin(): string {
  return [process.env['PATH'] ?? '', ...SBIN].join(':');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function run(command: string, args: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** Polls `probe` (a command's answer: the cluster has no event to wait on) until it holds. */
async function until(what: string, probe: () => Promise<boolean>, log: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function slurmConf(dir: string, nodeLine: string, ports: { controller: number; node: number }): string {
  const host = hostname().split('.')[0] ?? 'localhost';
  return [
    'ClusterName=coitest',
    `SlurmctldHost=${host}(127.0.0.1)`,
    `SlurmctldPort=${ports.controller}`,
    `SlurmdPort=${ports.node}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${join(dir, 'munge', 'munge.socket')}`,
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    'MpiDefault=none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    // A signalled job gets this long to save its checkpoint before SIGKILL.
    'KillWait=60',
    `${nodeLine} NodeAddr=127.0.0.1 State=UNKNOWN`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

export async function startSlurm(): Promise<SlurmCluster> {
  const dir = tempDir();
  for (const sub of ['munge', 'state', 'spool']) mkdirSync(join(dir, sub), { mode: 0o700 });
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PATH: pathWithSbin(), SLURM_CONF: join(dir, 'slurm.conf') };
  const pidFiles: string[] = [];
  const logs = (): string => ['munge/munged.log', 'slurmctld.log', 'slurmd.log'].map((f) => `--- ${f}\n${tail(join(dir, f))}`).join('\n');
  const cluster: SlurmCluster = { env, dir, stop: () => stopAll(pidFiles) };
  try {
    const key = join(dir, 'munge', 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    chmodSync(key, 0o400);
    const munge = ['--force', `--socket=${join(dir, 'munge', 'munge.socket')}`, `--key-file=${key}`, `--pid-file=${join(dir, 'munge', 'munged.pid')}`, `--log-file=${join(dir, 'munge', 'munged.log')}`, `--seed-file=${join(dir, 'munge', 'munged.seed')}`];
    await started('munged', await run('munged', munge, env), pidFiles, join(dir, 'munge', 'munged.pid'));
    // This machine as slurmd sees it (CPUs, sockets, RealMemory): a node line that matches it exactly.
    const node = (await run('slurmd', ['-C'], env)).stdout.split('\n').find((l) => l.startsWith('NodeName=')) ?? '';
    if (node === '') throw new Error('slurmd -C printed no NodeName line.');
    writeFileSync(env['SLURM_CONF'] ?? '', slurmConf(dir, node.trim(), { controller: await freePort(), node: await freePort() }));
    await started('slurmctld', await run('slurmctld', ['-i'], env), pidFiles, join(dir, 'slurmctld.pid'));
    await started('slurmd', await run('slurmd', [], env), pidFiles, join(dir, 'slurmd.pid'));
    await until('the node to be idle', async () => /^idle\s*$/m.test((await run('sinfo', ['--noheader', '--format=%T'], env)).stdout), logs);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw new Error(`The test Slurm cluster did not start: ${(err as Error).message}\n${logs()}`);
  }
}

/** A daemon that forked and wrote its pid file; remembered for `stop`. */
async function started(name: string, result: { code: number; stderr: string }, pidFiles: string[], pidFile: string): Promise<void> {
  if (result.code !== 0) throw new Error(`${name} exited ${result.code}: ${result.stderr.trim()}`);
  pidFiles.push(pidFile);
  await until(`${name}'s pid file`, () => Promise.resolve(pidOf(pidFile) !== undefined), () => '');
}

function pidOf(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to each daemon by its pid (newest first), then waits for each to be gone. */
async function stopAll(pidFiles: readonly string[]): Promise<void> {
  for (const file of [...pidFiles].reverse()) {
    const pid = pidOf(file);
    if (pid === undefined || !alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    await until(`pid ${pid} (${file}) to stop`, () => Promise.resolve(!alive(pid) || isZombie(pid)), () => '', 30_000);
  }
}

/** A daemon that ended but was not reaped by its parent (it daemonized from a reaped shell) is gone for our purposes. */
function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(none)';
  }
}
