import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package version, read from the package.json above this file (dist/cli.js and
 * out/cli/version.js both sit under the package root).
 */
export function packageVersion(): string {
  let dir = __dirname;
  for (let depth = 0; depth < 5; depth++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
        if (parsed.name === 'coi-studio' && typeof parsed.version === 'string') return parsed.version;
      } catch {
        // An unreadable manifest on the way up: keep looking.
      }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
