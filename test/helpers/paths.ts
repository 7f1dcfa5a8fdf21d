import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (tests run from out/test/..., sources live beside). */
export const repoRoot = join(__dirname, '..', '..', '..');

/** A path inside the repository: `repoPath('test', 'fixtures', 'x.coi')`. */
export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts);
}

/** The paper's released data (`../shared/data/coi`), read in place, never copied. */
export function sharedDataPath(...parts: string[]): string {
  return join(repoRoot, '..', 'shared', 'data', 'coi', ...parts);
}

/** The newest modification time of a `.ts` file under `dir` (recursively): a bundle older than it is stale. */
export function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stat = statSync(full);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(full) : name.endsWith('.ts') ? stat.mtimeMs : 0);
  }
  return newest;
}

/** The `.coi` files directly in `dir` with their text, named `prefix + file name`. */
export function coiFiles(dir: string, prefix = ''): { name: string; text: string }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.coi'))
    .map((name) => ({ name: prefix + name, text: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * Why the tests that read the paper's data skip (`{ skip: sharedDataSkip }`), or false
 * when `../shared/data/coi` is there. A clone on its own has no such folder; the
 * fixtures under test/fixtures cover the same behaviour.
 */
export const sharedDataSkip: string | false = existsSync(sharedDataPath('coi2_test.json'))
  ? false
  : `the CoI data is absent (${sharedDataPath()}): tests of the paper's records skip; fixtures cover the same behaviour`;
