/** Shared by the backend tests: chat prompts and assertions on BackendError codes. */
import assert from 'node:assert/strict';
import { BackendError, type Prompt } from '../../core/backends/types';

/** A two-message chat prompt: the system message, then the user's. */
export function chatPrompt(system: string, user: string): Prompt {
  return {
    kind: 'chat',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
  };
}

/** Awaits `promise`, which must reject with a BackendError of this code (and a message matching `pattern`). */
export async function rejectsWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<BackendError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BackendError, `expected a BackendError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}
