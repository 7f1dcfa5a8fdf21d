/** The cache root from an environment (core/syntax/cacheFolders.ts): an empty variable is unset. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envCacheDir, userCacheRoot } from '../../core/syntax/cacheFolders';

const home = (): string => '/home/u';

void test('$COI_CACHE_DIR when it names a folder; empty or unset, none', () => {
  assert.equal(envCacheDir({ COI_CACHE_DIR: '/c' }), '/c');
  assert.equal(envCacheDir({ COI_CACHE_DIR: '' }), undefined);
  assert.equal(envCacheDir({}), undefined);
});

void test('the user cache root: $COI_CACHE_DIR, else coi-studio/ in $XDG_CACHE_HOME, else in ~/.cache; an empty (or, per the XDG spec, relative) variable is passed over', () => {
  assert.equal(userCacheRoot({ COI_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' }, home), '/c');
  assert.equal(userCacheRoot({ COI_CACHE_DIR: '', XDG_CACHE_HOME: '/x' }, home), '/x/coi-studio');
  assert.equal(userCacheRoot({ COI_CACHE_DIR: '', XDG_CACHE_HOME: '' }, home), '/home/u/.cache/coi-studio');
  assert.equal(userCacheRoot({ XDG_CACHE_HOME: 'relative/cache' }, home), '/home/u/.cache/coi-studio');
  assert.equal(userCacheRoot({}, home), '/home/u/.cache/coi-studio');
});
