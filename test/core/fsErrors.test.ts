/** File system errors in the words the CLI and the side panel say them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFsError } from '../../core/syntax/fsErrors';

/** The error a file system call throws. */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  assert.fail('the call did not throw');
}

void test('errors made here read as words, not as their codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coi-fs-errors-'));
  writeFileSync(join(dir, 'file'), 'x');
  assert.equal(describeFsError(thrownBy(() => writeFileSync(join(dir, 'missing', 'x'), ''))), 'no such file or directory');
  assert.equal(describeFsError(thrownBy(() => writeFileSync(dir, ''))), 'is a directory');
  assert.equal(describeFsError(thrownBy(() => writeFileSync(join(dir, 'file', 'x'), ''))), 'a parent is not a directory');
});

void test('a read-only mount and a full quota are said in words (their errors cannot be made on every machine)', () => {
  // As Node throws them: `EROFS: read-only file system, open '/cache/steps/….json.partial-host-123'`.
  const erofs = Object.assign(new Error("EROFS: read-only file system, open '/cache/steps/a.json.partial-host-123'"), { code: 'EROFS' });
  assert.equal(describeFsError(erofs), 'the file system is read-only');
  assert.equal(describeFsError(Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' })), 'the disk quota is exceeded');
  assert.equal(describeFsError(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })), 'EIO: i/o error, read');
});
