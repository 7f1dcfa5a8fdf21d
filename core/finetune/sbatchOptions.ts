/**
 * The sbatch options that coi's batch script (slurm.ts `batchScript`) sets itself, and gives on
 * sbatch's command line too (`jobSbatchOptions`), where they override the script's lines. An
 * `sbatchArgs` entry (`--sbatch-arg`) that sets one again would be quietly overridden — and
 * within the script alone Slurm would take the last one: a second `--output` would take the log
 * away from `coi finetune logs`, a `--signal` the checkpoint before the time limit. Such an entry
 * is refused, naming the option; those a job's own settings write (`--partition`, `--time`,
 * `--account`, `cpusPerTask`, `--gpus`) only when the setting is given too (two values for one
 * option). Kept beside no engine code so that config.ts can check a config file with it.
 */
import type { DistributedParams, SlurmParams } from './job';

/** What decides the batch script's directives besides the fixed ones. */
export interface SbatchSettings {
  readonly slurm?: SlurmParams;
  readonly distributed?: DistributedParams;
}

interface OwnOption {
  readonly long: string;
  readonly short?: string;
  /** What coi sets it to, or where the user sets it instead. */
  readonly why: string;
  /** Written only with this setting (always when absent). */
  readonly when?: (settings: SbatchSettings) => boolean;
}

/** Every directive batchScript writes (test/finetune/slurmScript.test.ts checks that none is missing). */
export const OWN_SBATCH_OPTIONS: readonly OwnOption[] = [
  { long: 'job-name', short: 'J', why: "the job's name, coi-<job id>" },
  { long: 'output', short: 'o', why: "the log, <job>/log, which 'coi finetune logs' and the failure messages read" },
  { long: 'error', short: 'e', why: "the log, <job>/log, which holds the trainer's errors too" },
  { long: 'open-mode', why: 'append, so that a resumed job keeps the earlier output in its log' },
  { long: 'chdir', short: 'D', why: "the workspace, where the job's paths are resolved" },
  { long: 'nodes', short: 'N', why: 'the number of machines: give --nodes with --strategy ("distributed" in a config file)' },
  { long: 'ntasks-per-node', why: 'one launcher per node' },
  { long: 'comment', why: "coi-token=<a random token>, which tells the Slurm job apart as the job's (state.json's slurmToken)" },
  { long: 'signal', why: 'USR1 120 s before the time limit, so that the job saves a checkpoint' },
  { long: 'gpus-per-node', why: '--gpus ("distributed.gpus" in a config file)', when: (s) => s.distributed !== undefined },
  { long: 'cpus-per-task', short: 'c', why: '"cpusPerTask" in the config file', when: (s) => s.slurm?.cpusPerTask !== undefined },
  { long: 'partition', short: 'p', why: '--partition ("partition" in a config file)', when: (s) => s.slurm?.partition !== undefined },
  { long: 'time', short: 't', why: '--time ("timeLimit" in a config file)', when: (s) => s.slurm?.timeLimit !== undefined },
  { long: 'account', short: 'A', why: '--account ("account" in a config file)', when: (s) => s.slurm?.account !== undefined },
];

/** sbatch options that are whole names of their own and begin another's name (sbatch takes a unique prefix of a long option). */
const EXACT_PREFIXES = new Set(['gpus', 'ntasks']);
/** sbatch's short options that take no value: others may follow them in one word (`-Qo FILE`). */
const SHORT_FLAGS = new Set(['h', 'H', 'O', 'Q', 's', 'v', 'V', 'W']);

/** The own option that one `#SBATCH` word sets (`--output=x`, `--out=x`, `-o x`, `-ox`, `-Qo`), if any. */
function ownOptionOf(word: string): OwnOption | undefined {
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0] ?? '';
    if (name === '') return undefined;
    return OWN_SBATCH_OPTIONS.find((o) => o.long === name || (o.long.startsWith(name) && !EXACT_PREFIXES.has(name)));
  }
  for (const letter of word.slice(1)) {
    const own = OWN_SBATCH_OPTIONS.find((o) => o.short === letter);
    if (own !== undefined) return own;
    if (!SHORT_FLAGS.has(letter)) return undefined; // the rest is this option's value
  }
  return undefined;
}

/**
 * Why the job's `sbatchArgs` cannot go into its batch script: the first entry that sets an option
 * coi sets itself, named with the option and what coi sets it to; undefined when none does.
 * An entry is one argument but one `#SBATCH` line, which sbatch splits at spaces: every word is looked at.
 */
export function sbatchArgsProblem(settings: SbatchSettings): string | undefined {
  for (const arg of settings.slurm?.sbatchArgs ?? []) {
    for (const word of arg.trim().split(/\s+/)) {
      if (!word.startsWith('-')) continue;
      const own = ownOptionOf(word);
      if (own === undefined || (own.when !== undefined && !own.when(settings))) continue;
      const option = `--${own.long}${own.short !== undefined ? ` (-${own.short})` : ''}`;
      return own.when === undefined
        ? `sbatch option '${arg}' sets ${option}, which coi's batch script sets itself (${own.why}; coi gives it on sbatch's command line, where it wins): leave it out.`
        : `sbatch option '${arg}' sets ${option}, which the job's batch script already sets from ${own.why}: give it once.`;
    }
  }
  return undefined;
}
