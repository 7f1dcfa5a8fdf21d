import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepCache, cacheKey, stableStringify } from '../../core/runner/cache';
import { dependentsOf, stepDefinitionHashes } from '../../core/runner/hash';
import { RunStore, compareRuns } from '../../core/runner/runStore';
import { makeChain } from './helpers';
import { tempDir } from '../helpers/tempDir';

const entry = (text: string) => ({ text, promptTokens: 1, completionTokens: 2, durationMs: 3, createdAt: '2026-01-01T00:00:00Z' });
const key = (n: number) => cacheKey({ identity: { backend: 'local', model: 'm' }, params: {}, prompt: { kind: 'completion', text: `p${n}` }, upstream: {}, mode: 'stepwise' });

void test('cache keys ignore key order but see every part', () => {
  assert.equal(stableStringify({ b: 1, a: [1, { d: 2, c: 3 }] }), '{"a":[1,{"c":3,"d":2}],"b":1}');
  const base = { identity: { backend: 'local', model: 'm' }, params: { temperature: 0 }, prompt: { kind: 'completion' as const, text: 'x' }, upstream: { a: '1' }, mode: 'stepwise' };
  assert.equal(cacheKey(base), cacheKey({ ...base, params: { temperature: 0 } }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, params: { temperature: 0.5 } }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, identity: { backend: 'local', model: 'other' } }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, upstream: { a: '2' } }));
  assert.notEqual(cacheKey(base), cacheKey({ ...base, prompt: { kind: 'completion', text: 'y' } }));
});

void test('entries persist on disk across cache instances; clear() removes them', () => {
  const dir = tempDir();
  new StepCache(dir).set(key(1), entry('one'));
  const reopened = new StepCache(dir);
  assert.equal(reopened.get(key(1))?.text, 'one');
  assert.equal(reopened.get(key(2)), undefined);
  reopened.clear();
  assert.equal(new StepCache(dir).get(key(1)), undefined);
  assert.deepEqual(readdirSync(dir), []);
});

void test('keep() passes over a cache that cannot be written (its folder is a file): no error, a miss later', () => {
  const file = join(tempDir(), 'not-a-folder');
  writeFileSync(file, '');
  const cache = new StepCache(join(file, 'steps'));
  assert.throws(() => cache.set(key(1), entry('one')));
  cache.keep(key(1), entry('one'));
  assert.equal(cache.get(key(1)), undefined);
});

void test('the cache is bounded: least recently used entries go first', () => {
  const dir = tempDir();
  const cache = new StepCache(dir, { maxEntries: 3 });
  cache.set(key(1), entry('1'));
  cache.set(key(2), entry('2'));
  cache.set(key(3), entry('3'));
  assert.equal(cache.get(key(1))?.text, '1'); // 1 is now the most recently used
  cache.set(key(4), entry('4'));
  assert.equal(cache.stats().entries, 3);
  assert.equal(cache.get(key(2)), undefined, 'the least recently used entry was evicted');
  assert.equal(cache.get(key(1))?.text, '1');
  assert.equal(readdirSync(dir).length, 3);

  const bytes = new StepCache(tempDir(), { maxBytes: 400 });
  for (let i = 0; i < 10; i++) bytes.set(key(i), entry('x'.repeat(100)));
  assert.ok(bytes.stats().bytes <= 400);
  assert.ok(bytes.get(key(9)) !== undefined);
});

void test('a corrupt entry is a miss, not an error', () => {
  const dir = tempDir();
  const cache = new StepCache(dir);
  cache.set(key(1), entry('ok'));
  writeFileSync(join(dir, `${key(1)}.json`), '{not json');
  assert.equal(new StepCache(dir).get(key(1)), undefined);
});

void test('an entry of the wrong shape (null, a folder in its place, fields of the wrong types) is a miss, never an error nor an answer', () => {
  const dir = tempDir();
  const bodies: Record<number, string> = {
    1: 'null',
    2: '[]',
    3: '{"text":5}',
    4: '{"text":"X","promptTokens":"a","completionTokens":null,"durationMs":"x","createdAt":1}',
    5: '{"text":"X","promptTokens":1,"completionTokens":2,"durationMs":3,"createdAt":"t","finishReason":{"a":1}}',
    6: '',
  };
  for (const [n, body] of Object.entries(bodies)) writeFileSync(join(dir, `${key(Number(n))}.json`), body);
  mkdirSync(join(dir, `${key(7)}.json`));
  writeFileSync(join(dir, `${key(8)}.json`), '{"text":"old","promptTokens":1,"completionTokens":2,"durationMs":3,"createdAt":"t"}');
  const cache = new StepCache(dir);
  for (let n = 1; n <= 7; n++) assert.equal(cache.get(key(n)), undefined, `entry ${n}`);
  assert.equal(cache.get(key(8))?.text, 'old', 'an entry written before finishReason was kept is still read');
  // The step runs again, and its answer replaces the entry, except where a folder stands.
  cache.keep(key(1), entry('fresh'));
  cache.keep(key(7), entry('fresh'));
  const reopened = new StepCache(dir);
  assert.equal(reopened.get(key(1))?.text, 'fresh');
  assert.equal(reopened.get(key(7)), undefined);
});

void test('definition hashes change for the edited step and its dependents only', () => {
  const spec = (instruction: string) =>
    makeChain([
      { id: 'a', instruction },
      { id: 'b', from: ['text'] },
      { id: 'c', from: ['a', 'b'] },
    ]);
  const before = stepDefinitionHashes(spec('one'));
  const after = stepDefinitionHashes(spec('two'));
  assert.notEqual(before.get('a'), after.get('a'));
  assert.equal(before.get('b'), after.get('b'));
  assert.notEqual(before.get('c'), after.get('c'));
  assert.deepEqual([...dependentsOf(spec('one'), 'a')].sort(), ['a', 'c']);
});

const record = (id: string, outputs: string[], inputs: Record<string, string> = {}) => ({
  version: 1 as const,
  id,
  chain: 'c',
  mode: 'stepwise' as const,
  template: 'chat' as const,
  backend: 'local',
  model: 'm',
  inputs,
  startedAt: id,
  durationMs: 1,
  status: 'ok' as const,
  steps: outputs.map((output, index) => ({ id: `s${index}`, index, status: 'ok' as const, output, prompt: `Do it: ${inputs['text'] ?? ''}`, cached: false, pinned: false, durationMs: 0, promptTokens: 0, completionTokens: 0, definitionHash: '' })),
  modelCalls: outputs.length,
});

void test('run records: newest first, pruned to the bound, compared step by step', () => {
  const store = new RunStore(tempDir(), 2);
  store.save(record('2026-01-01T00-00-00', ['a']));
  store.save(record('2026-01-02T00-00-00', ['the cat sat', 'x']));
  store.save(record('2026-01-03T00-00-00', ['the cat sat down', 'x']));
  assert.deepEqual(store.list().map((r) => r.id), ['2026-01-03T00-00-00', '2026-01-02T00-00-00']);
  const diff = compareRuns(store.open('2026-01-02T00-00-00'), store.open('2026-01-03T00-00-00'));
  assert.deepEqual(diff.map((d) => [d.id, d.same]), [['s0', false], ['s1', true]]);
  assert.ok(Math.abs(diff[0]!.rougeL! - 6 / 7) < 1e-9);
  assert.throws(() => store.open('../etc/passwd'), /Not a run id/);
});

void test('run records: the history is kept to a size in bytes, oldest first, the newest always stays', () => {
  const dir = tempDir();
  const store = new RunStore(dir, { maxRecords: 100, maxBytes: 5000 });
  for (let day = 1; day <= 9; day++) store.save(record(`2026-01-0${day}T00-00-00`, ['x'.repeat(1000)]));
  const kept = readdirSync(dir);
  const bytes = kept.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  assert.ok(bytes <= 5000, `${bytes} bytes kept`);
  assert.ok(kept.length >= 2 && kept.length < 9, `${kept.length} records kept`);
  assert.equal(store.list()[0]?.id, '2026-01-09T00-00-00');
  const huge = new RunStore(tempDir(), { maxBytes: 10 });
  huge.save(record('2026-02-01T00-00-00', ['y'.repeat(100)]));
  assert.deepEqual(huge.list().map((r) => r.id), ['2026-02-01T00-00-00']);
});

void test('a run record on disk caps huge inputs, prompts and outputs, and says how much it left out', () => {
  const dir = tempDir();
  const store = new RunStore(dir);
  const input = 'word '.repeat(2_000_000); // 10 MB
  const path = store.save(record('2026-03-01T00-00-00', [input], { text: input }));
  assert.ok(statSync(path).size < 1_000_000, `${statSync(path).size} bytes`);
  const saved = store.open('2026-03-01T00-00-00');
  assert.match(saved.inputs['text'] ?? '', /^word word .*\n… \[9800000 more characters not kept in the run record\]$/s);
  assert.match(saved.steps[0]?.output ?? '', /more characters not kept in the run record\]$/);
  assert.match(saved.steps[0]?.prompt ?? '', /^Do it: word .*more characters not kept in the run record\]$/s);
});

void test('a run record on disk never cuts an emoji in half: the head ends before it, the note counts characters', () => {
  const store = new RunStore(tempDir());
  // 199,999 letters, then 3 emoji: the cap (200,000 UTF-16 units) falls inside the first emoji's surrogate pair.
  const input = `${'a'.repeat(199_999)}🌊🌊🌊`;
  store.save(record('2026-03-02T00-00-00', ['out'], { text: input }));
  const saved = store.open('2026-03-02T00-00-00').inputs['text'] ?? '';
  assert.equal(saved, `${'a'.repeat(199_999)}\n… [3 more characters not kept in the run record]`);
});

void test('a run record file that is not a whole record is left out of the list, and opening it says what is wrong, with its path', () => {
  const dir = tempDir();
  const store = new RunStore(dir);
  store.save(record('2026-04-01T00-00-00', ['good']));
  const whole = JSON.stringify(record('2026-04-02T00-00-00', ['x']));
  const broken: Record<string, string> = {
    '2026-04-02T00-00-00': whole.slice(0, whole.length / 2),
    '2026-04-03T00-00-00': '',
    '2026-04-04T00-00-00': 'null',
    '2026-04-05T00-00-00': JSON.stringify({ ...record('2026-04-05T00-00-00', ['x']), startedAt: 5 }),
    '2026-04-06T00-00-00': JSON.stringify({ ...record('2026-04-06T00-00-00', ['x']), steps: [null] }),
    '2026-04-07T00-00-00': JSON.stringify({ ...record('2026-04-07T00-00-00', ['x']), inputs: null }),
  };
  for (const [id, body] of Object.entries(broken)) writeFileSync(join(dir, `${id}.json`), body);
  mkdirSync(join(dir, '2026-04-08T00-00-00.json'));
  assert.deepEqual(store.list().map((r) => r.id), ['2026-04-01T00-00-00']);
  const path = (id: string) => join(dir, `${id}.json`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const problems: [string, RegExp][] = [
    ['2026-04-02T00-00-00', /it is not JSON \(/],
    ['2026-04-03T00-00-00', /it is empty/],
    ['2026-04-04T00-00-00', /it is not a run record \(not a JSON object\)/],
    ['2026-04-05T00-00-00', /its "startedAt" is not a string/],
    ['2026-04-06T00-00-00', /its step 1 is not a step/],
    ['2026-04-07T00-00-00', /its "inputs" is not an object of texts/],
    ['2026-04-08T00-00-00', /it is a folder/],
  ];
  for (const [id, problem] of problems) {
    assert.throws(() => store.open(id), (error: Error) => new RegExp(`^The run record ${path(id)} cannot be read: `).test(error.message) && problem.test(error.message), id);
  }
  assert.throws(() => store.open('2026-04-09T00-00-00'), /^Error: No run "2026-04-09T00-00-00" in /);
});

void test('a run record that cannot be opened for a reason of the file system is said in words, not in the system\'s code and call: a link to itself, a store that is a file', () => {
  const dir = tempDir();
  symlinkSync('2026-05-01T00-00-00.json', join(dir, '2026-05-01T00-00-00.json'));
  const store = new RunStore(dir);
  assert.deepEqual(store.list(), []);
  assert.throws(() => store.open('2026-05-01T00-00-00'), (error: Error) => {
    assert.equal(error.message, `The run record ${join(dir, '2026-05-01T00-00-00.json')} cannot be read: too many symbolic links (a link that points back to itself, directly or through others).`);
    return true;
  });
  const file = join(tempDir(), 'runs');
  writeFileSync(file, '');
  assert.throws(() => new RunStore(file).open('2026-05-01T00-00-00'), (error: Error) => {
    assert.equal(error.message, `The run record ${join(file, '2026-05-01T00-00-00.json')} cannot be read: a parent is not a directory.`);
    return true;
  });
});

void test('a write that fails (a folder where the entry or the record goes) leaves no temporary file behind', () => {
  const dir = tempDir();
  mkdirSync(join(dir, `${key(1)}.json`));
  writeFileSync(join(dir, `${key(1)}.json`, 'inside'), '');
  const cache = new StepCache(dir);
  assert.throws(() => cache.set(key(1), entry('one')));
  assert.deepEqual(readdirSync(dir), [`${key(1)}.json`]);
  const runs = tempDir();
  mkdirSync(join(runs, '2026-01-01T00-00-00.json'));
  writeFileSync(join(runs, '2026-01-01T00-00-00.json', 'inside'), '');
  assert.throws(() => new RunStore(runs).save(record('2026-01-01T00-00-00', ['a'])));
  assert.deepEqual(readdirSync(runs), ['2026-01-01T00-00-00.json']);
});
