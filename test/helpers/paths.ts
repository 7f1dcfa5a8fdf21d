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
