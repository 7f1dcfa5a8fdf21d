/**
 * The eval store's lock (core/eval/storeLock.ts) taken over from a process that no longer
 * runs: by one process only however many judge it stale at the same moment (real
 * processes racing), under a claim that a live process's holds against the others and
 * that a killed process's leaves to be taken over in turn.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createEvalConfig } from '../../core/eval/config';
import { EvalStoreError, openEvalStore } from '../../core/eval/store';
import { LOCK_FILE } from '../../core/eval/storeLock';
import { processStartIdentity } from '../../core/syntax/processes';
import type { EvalConfig } from '../../core/eval/types';
import { deadPid } from '../helpers/processes';
import { tempDir } from '../helpers/tempDir';

const CLAIM_FILE = `${LOCK_FILE}.takeover`;
const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

function config(): EvalConfig {
  return {
    ...createEvalConfig({
      name: 'lock-test',
      source: { kind: 'dataset', files: ['/x/rows.jsonl'], chainFile: '/x/chain.coi' },
      models: [{ key: 'm', label: 'm', identity: { backend: 'openai', model: 'm@x' } }],
      modes: ['stepwise'],
      template: 'chat',
      items: [],
      toolVersion: 'test',
    }),
    itemCount: 1,
  };
}

/** A store folder with no lock held. */
function store(): string {
  const dir = join(tempDir(), 'store');
  openEvalStore(dir, config()).close();
  return dir;
}

/** What a coi that was killed leaves: a lock (or claim) naming its pid on this host. */
function leftByKilledProcess(path: string): void {
  writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00.000Z' }) + '\n');
}

/** The lock's holder pid, as the file says. */
function lockPid(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid;
}

const inUse = (error: unknown): boolean => error instanceof EvalStoreError && error.code === 'in-use' && /is being written by .*: wait for it to finish, or delete .*eval\.lock if no such process runs\./.test(error.message);

/**
 * A process that opens the store `dir` (as `coi eval --resume` does) when told "go" on its
 * standard input, says "taken" or the refusal's message, and keeps what it took until "exit".
 * Given a FIFO, it says "paused" right after its second read of the lock file (where a
 * takeover reads the stale lock again before removing it) and waits there until the FIFO is
 * written: the moment two takeovers met.
 */
const OPENER = `
const fs = require('node:fs');
const [storeModule, dir, pauseFifo] = process.argv.slice(1);
if (pauseFifo !== undefined) {
  const read = fs.readFileSync;
  let lockReads = 0;
  fs.readFileSync = (path, ...rest) => {
    const text = read(path, ...rest);
    if (String(path).endsWith('/${LOCK_FILE}') && ++lockReads === 2) {
      fs.writeSync(1, 'paused\\n');
      read(pauseFifo);
    }
    return text;
  };
}
const { openEvalStore } = require(storeModule);
const lines = require('node:readline').createInterface({ input: process.stdin });
process.stdout.write('ready\\n');
lines.once('line', () => {
  let outcome = 'taken';
  try { openEvalStore(dir); } catch (error) { outcome = error.message; }
  process.stdout.write(outcome + '\\n');
  lines.once('line', () => process.exit(0));
});`;

interface Opener {
  readonly child: ChildProcess;
  /** Resolves to each line the process writes, in order. */
  next(): Promise<string>;
}

function startOpener(dir: string, pauseFifo?: string): Opener {
  const args = ['-e', OPENER, join(__dirname, '..', '..', 'core', 'eval', 'store.js'), dir, ...(pauseFifo === undefined ? [] : [pauseFifo])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    next: async () => {
      const line = await lines.next();
      if (line.done === true) throw new Error(`opener ${child.pid} ended without a word`);
      return line.value;
    },
  };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** Eight processes told to open `dir` at the same moment; what each said, once all have answered. */
async function race(dir: string, processes = 8): Promise<{ outcomes: string[]; pids: number[]; finish: () => Promise<void> }> {
  const openers = Array.from({ length: processes }, () => startOpener(dir));
  assert.deepEqual(await Promise.all(openers.map((o) => o.next())), openers.map(() => 'ready'));
  for (const opener of openers) opener.child.stdin!.write('go\n');
  const outcomes = await Promise.all(openers.map((o) => o.next()));
  const finish = async (): Promise<void> => {
    for (const opener of openers) opener.child.stdin!.write('exit\n');
    await Promise.all(openers.map((o) => exited(o.child)));
  };
  return { outcomes, pids: openers.map((o) => o.child.pid!), finish };
}

void describe('the eval store lock: taking over from a process that no longer runs', () => {
  void test('eight processes judging one stale lock at the same moment: exactly one takes it over, the others are refused (10 races)', async () => {
    const dir = store();
    for (let round = 1; round <= 10; round++) {
      leftByKilledProcess(join(dir, LOCK_FILE));
      const { outcomes, pids, finish } = await race(dir);
      try {
        const winners = pids.filter((_, i) => outcomes[i] === 'taken');
        assert.equal(winners.length, 1, `race ${round}: ${winners.length} processes took the lock:\n${outcomes.join('\n')}`);
        assert.equal(lockPid(dir), winners[0], `race ${round}: the lock names the process that took it`);
        for (const refusal of outcomes.filter((o) => o !== 'taken')) {
          // The winner, once its lock is written; "another process" while the takeover is under way: never the dead one.
          assert.match(refusal, new RegExp(`is being written by (coi \\(pid ${winners[0]} on [^)]+\\)|another process): wait for it to finish, or delete .*${LOCK_FILE} if no such process runs\\.`), `race ${round}`);
        }
        assert.equal(existsSync(join(dir, CLAIM_FILE)), false, `race ${round}: the claim is cleaned up`);
      } finally {
        await finish();
      }
      assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith(LOCK_FILE)), [], `race ${round}: released at exit`);
    }
  });

  void test('one process paused between reading the stale lock again and removing it while another takes it over: still only one holds the lock', { skip: hasMkfifo ? false : 'no mkfifo here' }, async () => {
    const dir = store();
    leftByKilledProcess(join(dir, LOCK_FILE));
    const fifo = join(tempDir(), 'resume');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const paused = startOpener(dir, fifo);
    const other = startOpener(dir);
    try {
      assert.deepEqual([await paused.next(), await other.next()], ['ready', 'ready']);
      paused.child.stdin!.write('go\n');
      assert.equal(await paused.next(), 'paused');
      other.child.stdin!.write('go\n');
      const otherOutcome = await other.next();
      writeFileSync(fifo, 'resume\n');
      const outcomes = [await paused.next(), otherOutcome];
      const winners = [paused, other].filter((_, i) => outcomes[i] === 'taken').map((o) => o.child.pid);
      assert.equal(winners.length, 1, `${winners.length} processes took the lock:\n${outcomes.join('\n')}`);
      assert.equal(lockPid(dir), winners[0]);
      assert.match(outcomes.find((o) => o !== 'taken') ?? '', /is being written by .*: wait for it to finish, or delete .*eval\.lock if no such process runs\./);
    } finally {
      // Killed, not told to exit: one left waiting on the FIFO by a failed assertion could not hear it.
      for (const opener of [paused, other]) opener.child.kill('SIGKILL');
      await Promise.all([paused, other].map((o) => exited(o.child)));
    }
  });

  void test('a claim held by a live process refuses the others; the stale lock and the claim are left to it', () => {
    const dir = store();
    leftByKilledProcess(join(dir, LOCK_FILE));
    const stale = readFileSync(join(dir, LOCK_FILE), 'utf8');
    // This very process is the live one taking it over.
    const claim = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n';
    writeFileSync(join(dir, CLAIM_FILE), claim);
    assert.throws(() => openEvalStore(dir, config()), (error: unknown) => inUse(error) && /by another process/.test((error as Error).message));
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), stale);
    assert.equal(readFileSync(join(dir, CLAIM_FILE), 'utf8'), claim);
  });

  void test('claims left by processes killed while taking over (a claim of a claim too) are taken over in turn, and cleaned up', () => {
    for (const claims of [[CLAIM_FILE], [CLAIM_FILE, `${CLAIM_FILE}.takeover`]]) {
      const dir = store();
      for (const name of [LOCK_FILE, ...claims]) leftByKilledProcess(join(dir, name));
      const opened = openEvalStore(dir, config());
      assert.equal(lockPid(dir), process.pid);
      assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith(LOCK_FILE)), [LOCK_FILE], claims.join(', '));
      opened.close();
    }
  });

  void test('a new folder holding only a claim left by a killed process is an empty folder for a new evaluation', () => {
    const dir = join(tempDir(), 'store');
    mkdirSync(dir);
    leftByKilledProcess(join(dir, CLAIM_FILE));
    const opened = openEvalStore(dir, config());
    assert.equal(lockPid(dir), process.pid);
    opened.close();
  });

  void test('a lock whose pid another process has now (its writer was killed by a reboot) is taken over; its own process still holds it', { skip: processStartIdentity(process.ppid) === undefined ? 'no /proc here: a lock records no start identity' : false }, () => {
    const living = process.ppid; // the test runner: alive, and not this process
    const lockOf = (start: string): string => JSON.stringify({ pid: living, host: hostname(), since: '2026-01-01T00:00:00.000Z', start }) + '\n';
    const held = store();
    writeFileSync(join(held, LOCK_FILE), lockOf(processStartIdentity(living) ?? ''));
    assert.throws(() => openEvalStore(held, config()), inUse);

    for (const start of ['an-earlier-boot:123', `${(processStartIdentity(living) ?? '').replace(/:\d+$/, '')}:1`]) {
      const dir = store();
      writeFileSync(join(dir, LOCK_FILE), lockOf(start));
      const opened = openEvalStore(dir, config());
      assert.equal(lockPid(dir), process.pid, start);
      opened.close();
    }
  });
});
