/**
 * Whole-file writes (core/syntax/wholeFile.ts) and the temporaries a killed writer leaves: the
 * first write of a process into a folder, and the step cache when it is opened, remove those
 * whose process is gone and that nothing wrote for ten minutes; the rest stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepCache } from '../../core/runner/cache';
import { partialPath } from '../../core/syntax/processes';
import { ABANDONED_AFTER_MS, writeWhole } from '../../core/syntax/wholeFile';
import { deadPid } from '../helpers/processes';
import { tempDir } from '../helpers/tempDir';

/** Writes `path` last written `minutesAgo` minutes ago. */
function plant(path: string, minutesAgo: number): string {
  writeFileSync(path, '{"half": ');
  const at = (Date.now() - minutesAgo * 60_000) / 1000;
  utimesSync(path, at, at);
  return path;
}

/** In `dir`: what must go (a killed writer's, old) and what must stay, by name. */
function plantTemporaries(dir: string): { gone: string[]; kept: string[] } {
  const dead = deadPid();
  const old = ABANDONED_AFTER_MS / 60_000 + 5;
  const gone = [plant(join(dir, `a.json.${dead}.tmp`), old), plant(partialPath(join(dir, 'b.json'), dead), old)];
  const kept = [
    plant(join(dir, `fresh.json.${dead}.tmp`), 1), // its writer may be on another machine, still at work
    plant(join(dir, `live.json.${process.pid}.tmp`), old), // a living process's
    plant(join(dir, `other.json.partial-another-host-${dead}`), old), // another host's pid means nothing here
    plant(join(dir, 'c.json'), old),
  ];
  const folder = join(dir, `folder.${dead}.tmp`);
  mkdirSync(folder);
  kept.push(folder);
  return { gone, kept };
}

void test("the first whole-file write into a folder removes killed writers' old temporaries, and only those; the write is whole", () => {
  const dir = tempDir();
  const { gone, kept } = plantTemporaries(dir);
  writeWhole(join(dir, 'state.json'), '{"ok": true}\n');
  assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), '{"ok": true}\n');
  for (const path of gone) assert.equal(existsSync(path), false, `${path} removed`);
  for (const path of kept) assert.equal(existsSync(path), true, `${path} kept`);
  assert.equal(readdirSync(dir).filter((name) => name.startsWith('state.json')).length, 1, 'no temporary of its own left');
});

void test('a folder is cleaned once per process: a later write there lists nothing', () => {
  const dir = tempDir();
  writeWhole(join(dir, 'one.json'), '1');
  const { gone } = plantTemporaries(dir);
  writeWhole(join(dir, 'two.json'), '2');
  for (const path of gone) assert.equal(existsSync(path), true, `${path} waits for the next process`);
});

void test("opening the step cache removes its folder's abandoned temporaries; a read-only cache removes nothing", () => {
  const dir = tempDir();
  const { gone, kept } = plantTemporaries(dir);
  assert.deepEqual(new StepCache(dir, { readOnly: true }).stats(), { entries: 0, bytes: 0 });
  for (const path of gone) assert.equal(existsSync(path), true, `${path} kept by a read-only cache`);
  assert.deepEqual(new StepCache(dir).stats(), { entries: 0, bytes: 0 });
  for (const path of gone) assert.equal(existsSync(path), false, `${path} removed`);
  for (const path of kept) assert.equal(existsSync(path), true, `${path} kept`);
});
