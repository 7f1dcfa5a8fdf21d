/** Finding GGUF model files in a folder (no vscode: unit-tested in plain Node). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** GGUF files directly in a folder or one level below (node-llama-cpp keeps them flat). */
export function ggufFilesIn(folder: string, limit = 500): { path: string; sizeBytes: number; folder: string }[] {
  const found: { path: string; sizeBytes: number; folder: string }[] = [];
  const visit = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      if (found.length >= limit) return;
      const path = join(dir, name);
      try {
        const stat = statSync(path);
        if (stat.isDirectory() && depth > 0) visit(path, depth - 1);
        else if (stat.isFile() && name.toLowerCase().endsWith('.gguf')) found.push({ path, sizeBytes: stat.size, folder });
      } catch {
        // A file that vanished while listing is simply not shown.
      }
    }
  };
  visit(folder, 1);
  return found;
}
