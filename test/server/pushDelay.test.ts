// The push model's wait after an edit: short for documents that check fast, the
// configured debounce for slow ones (issue 12 item 18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushDelayMs } from '../../server/diagnostics';

void test('a document that checks in 2 ms is pushed 10 ms after the edit, not 200', () => {
  assert.equal(pushDelayMs(200, 2), 10);
});

void test('a slow check waits up to the configured debounce, never longer', () => {
  assert.equal(pushDelayMs(200, 40), 120);
  assert.equal(pushDelayMs(200, 500), 200);
});

void test('before the first check: 30 ms; a debounce set lower wins, 0 included', () => {
  assert.equal(pushDelayMs(200, undefined), 30);
  assert.equal(pushDelayMs(5, undefined), 5);
  assert.equal(pushDelayMs(0, 3), 0);
});
