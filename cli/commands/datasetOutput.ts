/**
 * The output folder of `coi dataset build`: a build owns the dataset files in it. It
 * replaces the previous build's set as a whole — files of the previous build that this
 * one does not write (a validation file, the other format's train file), as its manifest
 * lists them, are removed, so that `coi finetune` never pairs a new train file with an old
 * validation file — and never touches other files of the folder.
 */
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DATASET_FORMATS, formatExtension } from '../../core/dataset/index';
import { describeFsError, FileError, UsageError } from '../errors';
import { canonicalPath, isFile, removeMadeFolders, removeTemporaries, writeTemporaries, yieldToEventLoop, type OutputFile, type WrittenTemporary } from '../files';
import { displayPath } from '../../core/syntax';
import { makeDirectories } from '../../core/syntax';

/** The manifest a build writes last; its `files` name the rest of the set. */
export const MANIFEST_NAME = 'dataset.json';
export const PROVENANCE_NAME = 'provenance.jsonl';

export type { OutputFile };

/**
 * The names a build in `dir` may replace or remove: what any format writes, and what the
 * previous build's manifest lists (plain names only: a manifest never reaches outside the folder).
 */
function ownedNames(dir: string): Set<string> {
  const extensions = new Set(DATASET_FORMATS.map(formatExtension));
  const names = new Set([MANIFEST_NAME, PROVENANCE_NAME, ...[...extensions].flatMap((extension) => [`train${extension}`, `validation${extension}`])]);
  for (const listed of previousBuildNames(dir)) names.add(listed);
  return names;
}

/** The plain file names the previous build's manifest lists (a manifest never reaches outside the folder). */
function previousBuildNames(dir: string): string[] {
  return previousManifestFiles(dir).filter((listed) => listed === basename(listed) && listed !== '.' && listed !== '..');
}

/** The file names the previous build's dataset.json lists; none when there is none or it cannot be read. */
function previousManifestFiles(dir: string): string[] {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_NAME), 'utf8')) as { files?: unknown };
    const files = manifest.files;
    if (typeof files !== 'object' || files === null) return [];
    return Object.values(files).filter((name): name is string => typeof name === 'string');
  } catch {
    return [];
  }
}

/**
 * `coi dataset build d/train.jsonl --out d` would replace (or remove) its own source:
 * refuse before anything is read or written (exit code 2).
 */
export function refuseOverwritingASource(out: string, sources: readonly string[], cwd: string): void {
  const dir = resolve(cwd, out);
  const owned = new Set([...ownedNames(dir)].map((name) => canonicalPath(join(dir, name))));
  const source = sources.find((s) => owned.has(canonicalPath(resolve(cwd, s))));
  if (source !== undefined) {
    throw new UsageError(`'${displayPath(resolve(cwd, source), cwd)}' is a source of this build and one of the files it writes or replaces in --out '${out}': name another output folder.`, 'dataset');
  }
}

/**
 * Writes the set into `dir` so that a failure never leaves a half-new set beside an old
 * manifest: every file goes to a temporary name first (a failed write removes them and
 * leaves the previous set as it was). Then, the last moment Ctrl-C (`signal`) cancels, the
 * signals that came meanwhile are let in: cancelled, the temporaries and a folder made go
 * and the signal's reason is thrown (the previous build is untouched). Else the old manifest
 * and the previous build's other files go, the new files take their names and the manifest
 * comes last. Returns the names of the previous build's files that were removed.
 */
export async function replaceBuildFiles(dir: string, files: readonly OutputFile[], signal: AbortSignal): Promise<string[]> {
  const fail = (error: unknown): never => {
    throw new FileError(`Cannot write the training set to '${dir}': ${describeFsError(error)}.`);
  };
  const made: string[] = [];
  try {
    makeDirectories(dir, made);
  } catch (error) {
    fail(error);
  }
  let written: WrittenTemporary[] = [];
  try {
    written = writeTemporaries(dir, files);
  } catch (error) {
    removeMadeFolders(made);
    fail(error);
  }
  await yieldToEventLoop();
  if (signal.aborted) {
    removeTemporaries(written);
    removeMadeFolders(made);
    signal.throwIfAborted();
  }
  const kept = new Set(files.map((f) => f.name));
  // Only what the previous build listed goes: a file of the user's that merely has an output's name stays.
  const stale = previousBuildNames(dir).filter((name) => !kept.has(name) && isFile(join(dir, name))).sort();
  // The manifest goes first and comes back last: a set without one is visibly unfinished.
  const ordered = [...written.filter((w) => w.name !== MANIFEST_NAME), ...written.filter((w) => w.name === MANIFEST_NAME)];
  try {
    rmSync(join(dir, MANIFEST_NAME), { force: true });
    for (const name of stale) rmSync(join(dir, name), { force: true });
    for (const { name, temporary } of ordered) renameSync(temporary, join(dir, name));
  } catch (error) {
    removeTemporaries(written);
    fail(error);
  }
  return stale;
}
