/**
 * Processes by pid, and the temporary files a process leaves when it is killed. Work that must
 * appear whole (a converted GGUF, a cloned llama.cpp) is written under `<target>.partial-<host>-<pid>`
 * and renamed into place; a writer killed with SIGKILL cannot remove its partial file, so the next
 * writer of the same target removes those whose process is gone.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process `pid` still runs and, when its `identity` was recorded, is the same one (not a later process given the pid). */
export function processStillRuns(pid: number, identity?: string): boolean {
  return processAlive(pid) && (identity === undefined || !pidNowNamesAnother(pid, identity));
}

/** What a lock file names to say which process holds it: the pid and, where known, its start identity. */
export function processOwnerText(): string {
  const identity = processStartIdentity(process.pid);
  return identity === undefined ? String(process.pid) : `${process.pid} ${identity}`;
}

/** The pid and start identity of a `processOwnerText` (or of a file holding only a pid). */
export function parseProcessOwner(text: string): { readonly pid: number; readonly identity?: string } {
  const [pidText = '', identity] = text.trim().split(/\s+/, 2);
  return { pid: Number(pidText), ...(identity === undefined ? {} : { identity }) };
}

/** This host's name as it may appear in a file name. */
export function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_');
}

/** Where the process `pid` (this one by default) of this host writes `target` until it is whole. */
export function partialPath(target: string, pid = process.pid): string {
  return `${target}.partial-${hostTag()}-${pid}`;
}

/**
 * Removes the partial files or folders of `target` left by processes of this host that no longer
 * exist. Another host's (a shared file system) cannot be checked and are kept, as are a living
 * process's. Returns the paths removed.
 */
export function removeAbandonedPartials(target: string): string[] {
  const prefix = `${basename(target)}.partial-${hostTag()}-`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return []; // no folder yet: nothing was left there
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pidText = name.slice(prefix.length);
    if (!/^[1-9]\d*$/.test(pidText)) continue;
    const pid = Number(pidText);
    if (pid === process.pid || processAlive(pid)) continue;
    const path = join(dirname(target), name);
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Not ours to remove after all (permissions): it stays, as before.
    }
  }
  return removed;
}

/**
 * What tells this process apart from a later one given the same pid: the boot and the start time
 * (`<boot id>:<start ticks>`), read from /proc on Linux; undefined elsewhere or when the process
 * is gone. A job records it beside the pid: after a reboot, or once pids wrap, the pid in an
 * old state.json can belong to any process, which must be neither taken for the training nor
 * signalled by Cancel.
 */
export function processStartIdentity(pid: number): string | undefined {
  const bootId = currentBootId();
  if (bootId === undefined || bootId === '') return undefined;
  const startTicks = procStatField(pid, 22); // starttime
  return startTicks !== undefined && /^\d+$/.test(startTicks) ? `${bootId}:${startTicks}` : undefined;
}

/**
 * Field `field` (numbered from 1, as proc(5) numbers them; 3 or later) of /proc/PID/stat;
 * undefined when the process is gone. The command name (field 2) is in parentheses and may hold
 * spaces or ')', so the fields are counted after its last ')'.
 */
function procStatField(pid: number | string, field: number): string | undefined {
  return procStatFields(pid)?.[field - 3];
}

/** The fields of /proc/PID/stat from field 3 on (procStatField's rule), read once; undefined when the process is gone. */
function procStatFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * Whether the process group led by `pid` still has a process (the launcher or its trainer), and
 * is the one started when `identity` was recorded. The group outlives its leader only while the
 * kernel keeps the pid from new processes, so a leader with another identity means the group is
 * gone; a leader that exited while its group lives is still the job's.
 */
export function processGroupAlive(pid: number, identity?: string): boolean {
  if (identity !== undefined && pidNowNamesAnother(pid, identity)) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a process of the group `pgid` has not ended yet. Killing a group is not the same as its
 * members having ended: one that was signalled but not yet scheduled (a shell's child between
 * fork and exec) still shows, running, after its leader's exit. Linux: every process in /proc
 * whose group is `pgid`, zombies (ended, not yet reaped) not counted; elsewhere the group as
 * `kill(-pgid, 0)` sees it.
 */
export function processGroupHasMembers(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return processGroupAlive(pgid);
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    // Fields 3 (the state) and 5 (the process group), from one read of the stat file.
    const [state, , group] = procStatFields(entry) ?? [];
    return group === String(pgid) && state !== undefined && state !== 'Z' && state !== 'X';
  });
}

/** Resolves once no process of the group `pgid` is left (processGroupHasMembers), or after `limitMs` at most. */
export async function groupEnded(pgid: number, limitMs: number): Promise<void> {
  const until = performance.now() + limitMs;
  while (processGroupHasMembers(pgid) && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * SIGKILL to the process group led by `child` (detached, just spawned: a trainer that trained
 * nothing yet); resolves once its leader has exited and no process of the group is left (a
 * launcher's child killed between fork and exec outlives the leader's exit for a moment: seen
 * under load), 5 s at most.
 */
export async function killGroupAtOnce(child: ChildProcess, pid: number): Promise<void> {
  await new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.ref(); // unref'd at launch: the exit is waited for
    child.once('exit', () => done());
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group has ended already: its exit comes all the same
    }
  });
  await groupEnded(pid, 5000);
}

/**
 * Whether `pid` now names a process other than the one `identity` was recorded for: one that
 * started later with the same pid, or the recorded one belongs to an earlier boot. False when
 * it cannot be told (no /proc): the pid alone decides then.
 */
export function pidNowNamesAnother(pid: number, identity: string): boolean {
  const now = processStartIdentity(pid);
  if (now !== undefined) return now !== identity;
  const bootId = identity.slice(0, identity.lastIndexOf(':'));
  const currentBoot = currentBootId();
  return bootId !== '' && currentBoot !== undefined && bootId !== currentBoot;
}

function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The command line of the process `pid`, its arguments joined by spaces: /proc/PID/cmdline on
 * Linux, `ps -o args=` elsewhere. Undefined when it cannot be read (the process is gone or a
 * zombie, or neither source answers).
 */
export function processCommandLine(pid: number): string | undefined {
  if (hasProc()) {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return raw === '' ? undefined : raw.replace(/\0$/, '').split('\0').join(' ');
    } catch {
      return undefined;
    }
  }
  const text = psOutput(['-o', 'args=', '-p', String(pid)])?.trim();
  return text === undefined || text === '' ? undefined : text;
}

/** The pids of the processes in the process group `pgid` (from /proc on Linux, `ps` elsewhere); undefined when they cannot be listed. */
export function processGroupMembers(pgid: number): number[] | undefined {
  if (hasProc()) {
    const members: number[] = [];
    for (const name of readdirSync('/proc')) {
      // Field 5 is pgrp; a process that ended while the list was read has none.
      if (/^\d+$/.test(name) && procStatField(name, 5) === String(pgid)) members.push(Number(name));
    }
    return members;
  }
  const text = psOutput(['-A', '-o', 'pid=,pgid=']);
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, group]) => group === pgid)
    .map(([pid]) => pid ?? 0);
}

function hasProc(): boolean {
  return existsSync('/proc/self/stat');
}

function psOutput(args: readonly string[]): string | undefined {
  try {
    return execFileSync('ps', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  } catch {
    return undefined;
  }
}
