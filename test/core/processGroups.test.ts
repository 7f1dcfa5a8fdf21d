/**
 * Killing a process group at once (core/syntax/processes.ts): what a failed trainer start relies on
 * to say "nothing is left running". A shell's child killed between fork and exec still shows,
 * running, after the leader's exit (seen under load, a few times in a hundred starts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupEnded, killGroupAtOnce, processGroupHasMembers } from '../../core/syntax/processes';
import { tempDir } from '../helpers/tempDir';

const linux = existsSync('/proc/self/stat');

/** Processes (not zombies) whose command line holds `marker` as an argument. */
function runningWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`\0${marker}\0`) && !'ZX'.includes(stat.slice(stat.lastIndexOf(')') + 2)[0] ?? 'X');
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

void test('a group whose leader exited while a member runs has members until that member ends', { skip: linux ? false : 'reads /proc' }, async () => {
  const leader = spawn('sh', ['-c', 'sleep 30 & echo started'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve) => leader.once('exit', resolve));
  const pid = leader.pid!;
  assert.equal(processGroupHasMembers(pid), true, 'the sleep outlives its shell');
  process.kill(-pid, 'SIGKILL');
  await groupEnded(pid, 5000);
  assert.equal(processGroupHasMembers(pid), false);
});

void test('killGroupAtOnce: once it resolves, no process of the group runs, however early it is killed (60 starts)', { skip: linux ? false : 'reads /proc' }, async () => {
  const dir = tempDir();
  const launcher = join(dir, 'launcher');
  writeFileSync(launcher, '#!/bin/sh\nsleep 600\n'); // a launcher whose child (the trainer) would run for minutes
  chmodSync(launcher, 0o755);
  for (let i = 0; i < 60; i++) {
    const marker = `run-${process.pid}-${i}`;
    const child = spawn(launcher, ['--job-dir', marker], { detached: true, stdio: 'ignore' });
    // Killed 0 to 5 ms after the spawn: before, while or after the shell forks its child.
    await new Promise((resolve) => setTimeout(resolve, i % 6));
    await killGroupAtOnce(child, child.pid!);
    assert.deepEqual(runningWith(marker), [], `start ${i}: a process of the killed group still runs`);
  }
});
