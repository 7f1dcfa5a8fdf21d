/**
 * Where the editor puts an evaluation's store when none is named: `.coi-evals/` beside the
 * chain or records file, as `coi eval` does, but only where the editor can find it again.
 * CoI: Resume Evaluation… and the side panel list the stores of the open workspace folders,
 * so a file outside them (held-out records in /data) or beside which nothing can be written
 * (a read-only folder) has its store in a workspace folder's `.coi-evals/` instead — the
 * editor's counterpart of the CLI's working folder.
 */
import { dirname, join } from 'node:path';
import { isInsideFolder, unwritableReason } from '../syntax/directories';

export const STORES_FOLDER = '.coi-evals';

export interface StoreParent {
  /** The folder the store folder is made in. */
  readonly parent: string;
  /** Why it is not beside the file (said in the log); absent when it is. */
  readonly why?: string;
}

/**
 * `anchor`: the chain or records file; `workspaceFolders`: the open folders (paths), the first
 * taking a file outside all of them. With no folder open the store stays beside the file.
 */
export function editorStoreParent(anchor: string, workspaceFolders: readonly string[]): StoreParent {
  const beside = join(dirname(anchor), STORES_FOLDER);
  const home = workspaceFolders.find((folder) => isInsideFolder(anchor, folder));
  const fallbackFolder = home ?? workspaceFolders[0];
  if (fallbackFolder === undefined) return { parent: beside };
  const fallback = join(fallbackFolder, STORES_FOLDER);
  if (home === undefined) return { parent: fallback, why: `${anchor} is outside the workspace folders, where CoI: Resume Evaluation… and the side panel look` };
  if (beside === fallback) return { parent: beside };
  const why = unwritableReason(beside);
  return why === undefined ? { parent: beside } : { parent: fallback, why: `${beside} cannot be written: ${why}` };
}
