/**
 * Confinement of paths that come from files in the workspace (a run record's `.coi` file): the
 * editor opens and re-runs only what lies inside an open workspace folder. No `vscode` here:
 * unit-tested.
 */
import { isInsideFolder } from '../../core/syntax';

/** Whether `path` lies inside one of `folders`, after `.` and `..` are resolved: `<ws>/../x` and `<ws>-other/x` do not. */
export function insideFolders(path: string, folders: readonly string[]): boolean {
  return folders.some((folder) => isInsideFolder(path, folder));
}
