import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(): string {
  if (created.length === 0) process.once('exit', () => created.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const dir = mkdtempSync(join(tmpdir(), 'coi-test-'));
  created.push(dir);
  return dir;
}
