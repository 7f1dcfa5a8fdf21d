/**
 * A real one-node Slurm cluster for the tests, from Debian's `slurm-wlm` and `munge`: a munge
 * key, `munged`, `slurmctld` and `slurmd` with a generated `slurm.conf`, all in a temporary
 * folder (state, spool, sockets, pid files, logs) on free ports. The commands find it through
 * `SLURM_CONF` in `env`. `stop()` stops every daemon it started, by the pid it wrote.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';

export interface SlurmCluster {
  readonly dir: string;
  /** `SLURM_CONF` (and the rest of process.env) for sbatch, squeue, scancel, scontrol. */
  readonly env: Record<string, string>;
  /** The last lines of the daemons' logs (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

const DAEMONS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'scontrol'] as const;

/** Why a Slurm cluster cannot be started here (a missing program), or undefined when it can. */
export function slurmMissing(): string | undefined {
  const missing = DAEMONS.filter((name) => spawnSync('sh', ['-c', `command -v ${name} || test -x /usr/sbin/${name}`]).status !== 0);
  if (missing.length > 0) return `Slurm is not installed here (${missing.join(', ')} missing; apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'the Slurm test cluster runs its daemons as root';
  return undefined;
}

function program(name: string): string {
  return existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name;
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

export async function startSlurm(): Promise<SlurmCluster> {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const munge = join(dir, 'munge');
  mkdirSync(munge, { mode: 0o700 });
  writeFileSync(join(munge, 'munge.key'), randomBytes(1024), { mode: 0o400 });
  const socket = join(munge, 'munge.socket');
  const host = hostname().split('.')[0] ?? 'localhost';
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub));
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=coitest',
      `SlurmctldHost=${host}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      // No cgroups in a container: processes are tracked by their parent links.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/builtin',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      // No slurmdbd: sacct has nothing to read; finished jobs stay in scontrol for an hour.
      'AccountingStorageType=accounting_storage/none',
      'MinJobAge=3600',
      `NodeName=${host} CPUs=${cpus().length} RealMemory=2000 State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = { ...(process.env as Record<string, string>), SLURM_CONF: conf };
  const started: string[] = [];
  const pidFiles = { munged: join(munge, 'munged.pid'), slurmctld: join(dir, 'slurmctld.pid'), slurmd: join(dir, 'slurmd.pid') };
  const cluster: SlurmCluster = {
    dir,
    env,
    logs: () => ['slurmctld.log', 'slurmd.log', join('munge', 'munged.log')].map((f) => `--- ${f}\n${tail(join(dir, f))}`).join('\n'),
    stop: async () => {
      for (const name of [...started].reverse()) {
        const pid = readPid(pidFiles[name as keyof typeof pidFiles]);
        if (pid !== undefined) await stopProcess(pid);
      }
    },
  };
  try {
    // munged refuses to run as root without --force; everything it needs is in the temporary folder.
    execFileSync(program('munged'), ['--force', `--socket=${socket}`, `--key-file=${join(munge, 'munge.key')}`, `--pid-file=${pidFiles.munged}`, `--log-file=${join(munge, 'munged.log')}`, `--seed-file=${join(munge, 'munged.seed')}`], { env });
    started.push('munged');
    execFileSync(program('slurmctld'), ['-f', conf], { env });
    started.push('slurmctld');
    execFileSync(program('slurmd'), ['-f', conf], { env });
    started.push('slurmd');
    await until(() => /\bidle\b/.test(spawnSync('sinfo', ['-h', '-o', '%t'], { env, encoding: 'utf8' }).stdout), 'the node to be idle', cluster);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
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

async function stopProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function until(predicate: () => boolean, what: string, cluster: SlurmCluster): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Slurm test cluster: timed out waiting for ${what}\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(none)';
  }
}
