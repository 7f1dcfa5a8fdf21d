import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StepCache, cacheKey, stableStringify } from '../../core/runner/cache';
import { dependentsOf, stepDefinitionHashes } from '../../core/runner/hash';
import { makeChain } from './helpers';

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
  const dir = mkdtempSync(join(tmpdir(), 'coi-cache-'));
  new StepCache(dir).set(key(1), entry('one'));
  const reopened = new StepCache(dir);
  assert.equal(reopened.get(key(1))?.text, 'one');
  assert.equal(reopened.get(key(2)), undefined);
  reopened.clear();
  assert.equal(new StepCache(dir).get(key(1)), undefined);
  assert.deepEqual(readdirSync(dir), []);
});

void test('the cache is bounded: least recently used entries go first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coi-cache-'));
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

  const bytes = new StepCache(mkdtempSync(join(tmpdir(), 'coi-cache-')), { maxBytes: 400 });
  for (let i = 0; i < 10; i++) bytes.set(key(i), entry('x'.repeat(100)));
  assert.ok(bytes.stats().bytes <= 400);
  assert.ok(bytes.get(key(9)) !== undefined);
});

void test('a corrupt entry is a miss, not an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coi-cache-'));
  const cache = new StepCache(dir);
  cache.set(key(1), entry('ok'));
  writeFileSync(join(dir, `${key(1)}.json`), '{not json');
  assert.equal(new StepCache(dir).get(key(1)), undefined);
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
