/**
 * client/panel/insideFolders.ts: the chain a workspace run record names is opened (and re-run)
 * only from inside an open workspace folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insideFolders } from '../../client/panel/insideFolders';

const folders = ['/work/project', '/work/second/'];

void test('a file inside a workspace folder, at any depth, is inside', () => {
  for (const path of ['/work/project/chain.coi', '/work/project/a/b/c.coi', '/work/second/x.coi', '/work/project/./sub/../chain.coi', '/work/project/..hidden.coi']) {
    assert.equal(insideFolders(path, folders), true, path);
  }
});

void test('a path that climbs out with .., a sibling with the same prefix, the folder itself, or anywhere else is not', () => {
  for (const path of ['/work/project/../elsewhere/evil.coi', '/work/project/..', '/work/project-other/chain.coi', '/work/project', '/work/project/', '/etc/passwd', '/work', 'relative/chain.coi']) {
    assert.equal(insideFolders(path, folders), false, path);
  }
  assert.equal(insideFolders('/work/project/chain.coi', []), false, 'no workspace folder: nothing is inside');
});
