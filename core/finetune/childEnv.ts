/**
 * The environment of every process the fine-tuning engines start — the trainer, sbatch and the
 * other Slurm commands, the GGUF converter, the environment setup — is the caller's less the API
 * keys core reads to call a hosted trainer. None of those processes needs a key, sbatch exports
 * its whole environment to the cluster's nodes, and the trainer runs what the workspace's files
 * configure. Only the Together engine reads the key, in this process (together/service.ts).
 */

export const TOGETHER_API_KEY_ENV = 'TOGETHER_API_KEY';

const HOSTED_TRAINER_KEYS: ReadonlySet<string> = new Set([TOGETHER_API_KEY_ENV]);

type Env = Readonly<Record<string, string | undefined>>;

/** `env` without the hosted trainers' API keys (in any case of their names: Windows treats them alike). */
export function childProcessEnv(env: Env): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !HOSTED_TRAINER_KEYS.has(name.toUpperCase())));
}
