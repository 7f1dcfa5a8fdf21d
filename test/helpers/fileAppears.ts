import { once } from 'node:events';
import { existsSync, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Resolves with `file`'s text once it exists (a mark a stand-in tool or trainer leaves, a file
 * renamed into place whole): the event, not a sleep. Its folder is watched, so it may already be there.
 * `signal` gives up (the promise rejects, the watch ends).
 */
export async function fileAppears(file: string, signal?: AbortSignal): Promise<string> {
  const watcher = watch(dirname(file));
  try {
    while (!existsSync(file)) await once(watcher, 'change', signal === undefined ? {} : { signal });
  } finally {
    watcher.close();
  }
  return readFileSync(file, 'utf8');
}
