/**
 * Where coi keeps what it can make again (step caches, run records, the training environment,
 * llama.cpp's converters), read from an environment by one rule for the CLI, the extension and
 * the engines. A variable set to the empty string counts as unset: `COI_CACHE_DIR=` (a shell
 * line or a CI matrix that left it blank) would otherwise put the caches in the working folder.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** $COI_CACHE_DIR where it names a folder; undefined where it is unset or empty. */
export function envCacheDir(env: Env): string | undefined {
  const dir = env['COI_CACHE_DIR'];
  return dir === undefined || dir === '' ? undefined : dir;
}

/**
 * The folder for the caches that belong to no workspace (the training environment, the
 * converters): $COI_CACHE_DIR, else `coi-studio/` in $XDG_CACHE_HOME, else in `~/.cache`.
 * The XDG base directory spec says an empty or relative $XDG_CACHE_HOME is to be ignored.
 */
export function userCacheRoot(env: Env, home: () => string = homedir): string {
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(home(), '.cache');
  return envCacheDir(env) ?? join(base, 'coi-studio');
}
