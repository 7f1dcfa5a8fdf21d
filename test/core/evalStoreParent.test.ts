/**
 * Where the editor's evaluation store goes when none is named: beside the chain or records
 * file inside the workspace, else in a workspace folder's .coi-evals/ (where Resume and the
 * side panel find it), saying why.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editorStoreParent } from '../../core/eval/storeParent';
import { tempDir } from '../helpers/tempDir';

void describe('editorStoreParent', () => {
  void test('a file inside a workspace folder: beside it', () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'data'));
    assert.deepEqual(editorStoreParent(join(ws, 'data', 'held-out.json'), [ws]), { parent: join(ws, 'data', '.coi-evals') });
  });

  void test('a file outside every workspace folder: the first folder, with the reason', () => {
    const ws = tempDir();
    const outside = tempDir();
    const placed = editorStoreParent(join(outside, 'held-out.json'), [ws, tempDir()]);
    assert.equal(placed.parent, join(ws, '.coi-evals'));
    assert.match(placed.why ?? '', /held-out\.json is outside the workspace folders/);
  });

  void test('a file in the second folder stays in that folder', () => {
    const [a, b] = [tempDir(), tempDir()];
    assert.equal(editorStoreParent(join(b, 'chain.coi'), [a, b]).parent, join(b, '.coi-evals'));
  });

  void test('beside the file cannot be written: its workspace folder, with the reason', () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'ro'));
    writeFileSync(join(ws, 'ro', '.coi-evals'), 'a file, not a folder');
    const placed = editorStoreParent(join(ws, 'ro', 'held-out.json'), [ws]);
    assert.equal(placed.parent, join(ws, '.coi-evals'));
    assert.match(placed.why ?? '', /cannot be written/);
  });

  void test('beside the file is a folder no one may write (dr-xr-xr-x): its workspace folder, even for root', () => {
    const ws = tempDir();
    mkdirSync(join(ws, 'ro'));
    writeFileSync(join(ws, 'ro', 'held-out.json'), '[]');
    chmodSync(join(ws, 'ro'), 0o555);
    const placed = editorStoreParent(join(ws, 'ro', 'held-out.json'), [ws]);
    assert.equal(placed.parent, join(ws, '.coi-evals'));
    assert.match(placed.why ?? '', /ro\/\.coi-evals cannot be written: permission denied/);
    assert.deepEqual(readdirSync(join(ws, 'ro')), ['held-out.json'], 'the check made nothing there');
  });

  void test('no workspace folder open: beside the file, as before', () => {
    const outside = tempDir();
    assert.deepEqual(editorStoreParent(join(outside, 'held-out.json'), []), { parent: join(outside, '.coi-evals') });
  });
});
