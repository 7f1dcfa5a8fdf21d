/**
 * The environment of every process the fine-tuning engines start — the trainer, sbatch and the
 * other Slurm commands, the GGUF converter, the environment setup, tar — is the caller's less
 * its keys. None of those processes calls a hosted API, sbatch exports its whole environment to
 * the cluster's nodes (and Slurm keeps it on disk with the job), and the trainer runs what the
 * workspace's files configure. Only the Together engine reads its key, in this process
 * (together/service.ts).
 *
 * Removed: every API key coi reads (TOGETHER_API_KEY, OPENAI_API_KEY, and any `*_API_KEY`, which
 * is what a model profile's `api_key_env` names) and the Hugging Face token (HF_TOKEN,
 * HUGGING_FACE_HUB_TOKEN). The token goes to the trainer alone (`trainerProcessEnv`: the local
 * trainer, and sbatch for the nodes' trainer), and only when it may download the base model
 * (HF_HUB_OFFLINE off): a gated model needs it then, and nothing else ever does.
 */

export const TOGETHER_API_KEY_ENV = 'TOGETHER_API_KEY';

/** The Hugging Face Hub's token variables (the second is its older name). */
const HUB_TOKENS: ReadonlySet<string> = new Set(['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN']);

type Env = Readonly<Record<string, string | undefined>>;

/** An API key's variable, in any case of its name (Windows treats them alike): TOGETHER_API_KEY, OPENAI_API_KEY, any `*_API_KEY`. */
function isApiKey(name: string): boolean {
  const upper = name.toUpperCase();
  return upper === 'API_KEY' || upper.endsWith('_API_KEY');
}

function isHubToken(name: string): boolean {
  return HUB_TOKENS.has(name.toUpperCase());
}

/** `env` without the API keys: what the engines other than Together are given (the Hugging Face token stays, for the trainer). */
export function withoutApiKeys(env: Env): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isApiKey(name)));
}

/** `env` without any key: the environment of every process an engine starts other than the trainer. */
export function childProcessEnv(env: Env): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isApiKey(name) && !isHubToken(name)));
}

/** Whether the Hugging Face libraries run offline (HF_HUB_OFFLINE, as huggingface_hub reads it); the trainer's default is offline. */
export function hubOffline(env: Env): boolean {
  return ['1', 'ON', 'YES', 'TRUE'].includes((env['HF_HUB_OFFLINE'] ?? '1').trim().toUpperCase());
}

/** The trainer's environment (before its own settings): no API key; the Hub token only when the trainer may download. */
export function trainerProcessEnv(env: Env): Record<string, string | undefined> {
  return hubOffline(env) ? childProcessEnv(env) : withoutApiKeys(env);
}
