import { spawnSync } from 'node:child_process';

/** The pid of a process that has exited (no process runs under it now): what a killed writer's or lock holder's files name. */
export function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' }).pid;
  if (pid === undefined || pid <= 1) throw new Error(`no pid for an exited process (${String(pid)})`);
  return pid;
}
