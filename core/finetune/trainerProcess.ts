/**
 * Whether the pid in a job's state.json is the job's trainer, before anything treats it so.
 * state.json is a file like any other — a cloned repository can commit a job folder naming any
 * pid — so Cancel signals a process group only when it is provably the one the job started:
 * its leader has the start identity recorded at launch (Linux: boot id and start time, which no
 * committed file can know), or, without one, a process of the group runs the job's trainer
 * (`coi_train.py … --job-dir <the job's folder>`, as trl.ts launches it).
 */
import { realpathSync } from 'node:fs';
import { processCommandLine, processGroupAlive, processGroupMembers, processStartIdentity } from '../syntax/processes';

export type TrainerProcess =
  /** The group is the job's trainer (launcher and training processes). */
  | { readonly kind: 'trainer' }
  /** No process is left in the group, or the pid now belongs to a process started later. */
  | { readonly kind: 'gone' }
  /** The pid's group runs something else: `why` says what. */
  | { readonly kind: 'other'; readonly why: string }
  /** Alive, but nothing tells whether it is the trainer (no start identity, no command line to read). */
  | { readonly kind: 'unconfirmed'; readonly why: string };

export const TRAINER_SCRIPT = 'coi_train.py';

/** What the process group led by `pid` (with the start identity `pidStart` recorded at launch, if any) is to the job in `dir`. */
export function trainerProcess(dir: string, pid: number, pidStart?: string): TrainerProcess {
  if (!processGroupAlive(pid, pidStart)) return { kind: 'gone' };
  if (pidStart !== undefined && processStartIdentity(pid) === pidStart) return { kind: 'trainer' };
  const leader = processCommandLine(pid);
  if (leader !== undefined) return runsTrainerOf(leader, dir) ? { kind: 'trainer' } : { kind: 'other', why: `pid ${pid} runs \`${shortened(leader)}\`` };
  // The leader has exited (or cannot be read) while its group lives: the group's other processes tell.
  const members = (processGroupMembers(pid) ?? []).map((member) => processCommandLine(member)).filter((line): line is string => line !== undefined);
  if (members.some((line) => runsTrainerOf(line, dir))) return { kind: 'trainer' };
  if (members.length > 0) return { kind: 'other', why: `process group ${pid} runs \`${shortened(members[0] ?? '')}\`` };
  return { kind: 'unconfirmed', why: `the command line of process group ${pid} cannot be read` };
}

/** Whether a command line is the trainer's (or its launcher's) for the job folder `dir`. */
export function runsTrainerOf(commandLine: string, dir: string): boolean {
  if (!commandLine.includes(`/${TRAINER_SCRIPT} `) && !commandLine.includes(` ${TRAINER_SCRIPT} `)) return false;
  return [dir, real(dir)].some((folder) => commandLine.includes(` --job-dir ${folder} `) || commandLine.endsWith(` --job-dir ${folder}`));
}

/** Said where a job's pid is not its trainer: nothing is signalled. */
export function notTrainerMessage(jobId: string, dir: string, pid: number, found: Exclude<TrainerProcess, { kind: 'trainer' | 'gone' }>): string {
  const what = found.kind === 'other' ? `is not job ${jobId}'s trainer: ${found.why}` : `cannot be confirmed as job ${jobId}'s trainer: ${found.why}`;
  return `The process ${pid} named in ${dir}/state.json ${what} (the trainer runs ${TRAINER_SCRIPT} --job-dir ${dir}). No signal was sent to it.`;
}

/** A path with its symbolic links resolved; the path itself where it cannot be (gone, unreadable). */
export function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function shortened(commandLine: string): string {
  return commandLine.length > 120 ? `${commandLine.slice(0, 117)}...` : commandLine;
}
