/**
 * Turns command-line paths into files: a file is taken as is, a directory is searched
 * recursively for files with the extension, and an argument with glob characters
 * (`*`, `**`, `?`, `{a,b}`) is matched against the files under its fixed prefix
 * (Node 20 has no fs.glob). Directory walks skip `node_modules` and hidden folders
 * (`.git`, ...), unless the glob names them.
 */
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { describeFsError, FileError } from './errors';
import type { CliIO } from './io';
import { displayPath, invalidUtf8At, makeDirectories, MAX_TEXT_BYTES, partialPath, refuseNonTextFile, removeAbandonedPartials } from '../core/syntax';

export interface ExpandOptions {
  /** The extension searched for in directories and globs, with its dot: `.coi`. */
  readonly extension: string;
  readonly cwd: string;
  /**
   * Told of each folder under a directory or glob argument that cannot be listed (its path
   * as shown), so the command reports it as an unreadable file and checks the rest. Without
   * it, such a folder under a directory argument stops the command (FileError).
   */
  readonly onUnreadableFolder?: (display: string, err: unknown) => void;
  /**
   * Told of each entry under a directory or glob argument that has the extension (matches the
   * glob) but is skipped because it cannot be followed: a symbolic link whose target is
   * missing, or a loop of links (its path as shown, and why, in words).
   */
  readonly onSkippedLink?: (display: string, why: string) => void;
}

export interface FoundFile {
  /** Absolute path. */
  readonly path: string;
  /** The path as shown to the user: relative to the working directory when inside it. */
  readonly display: string;
}

const GLOB_CHARS = /[*?{]/;

export function isGlob(arg: string): boolean {
  return GLOB_CHARS.test(arg);
}

/**
 * The files sorted with the numbers in their paths compared as numbers: imported records
 * named `1000-x.coi` ... `9999-x.coi`, `10000-x.coi` (the unpadded names of older
 * imports) come back in record order, as padded names do.
 */
export function inRecordOrder(files: readonly FoundFile[]): FoundFile[] {
  return [...files].sort((a, b) => compareWithNumbers(a.display, b.display));
}

function compareWithNumbers(a: string, b: string): number {
  const partsA = a.match(/\d+|\D+/g) ?? [];
  const partsB = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(partsA.length, partsB.length); i++) {
    const x = partsA[i] as string;
    const y = partsB[i] as string;
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    if (numeric && x.length !== y.length && Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return partsA.length - partsB.length;
}

/**
 * The files named by `args`, sorted by display path and without duplicates.
 * Throws a `FileError` (exit code 2) naming every argument that matches nothing.
 */
export function expandPaths(args: readonly string[], options: ExpandOptions): FoundFile[] {
  const found = new Map<string, FoundFile>();
  const problems: string[] = [];
  for (const arg of args) {
    // A file whose name has glob characters (`notes{v2}.coi`) is taken as named.
    const glob = isGlob(arg) && !existsSync(resolve(options.cwd, arg));
    const matches = glob ? expandGlob(arg, options) : expandPath(arg, options, problems);
    if (glob && matches.length === 0) problems.push(`'${arg}': no file matches this pattern`);
    for (const path of matches) found.set(path, { path, display: displayPath(path, options.cwd) });
  }
  if (problems.length > 0) throw new FileError(problems.length === 1 ? `Cannot read ${problems[0]}.` : `Cannot read:\n  ${problems.join('\n  ')}`);
  return [...found.values()].sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
}

/** Whether `path` is a regular file (false when it is missing: callers report that their own way). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Whether `path` is a directory (false when it is missing: callers report that their own way). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether anything is at `path`, a symbolic link included (even one whose target is missing, which existsSync does not see). */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first of `outputs` that is one of `inputs` (absolute paths), comparing canonical paths, so
 * a link to an input or another spelling of it counts; undefined when none is. A command that
 * writes it would replace its own input: `coi import x.json --test-set x.json`.
 */
export function outputNamingAnInput(outputs: readonly string[], inputs: readonly string[]): string | undefined {
  const canonicalInputs = new Set(inputs.map(canonicalPath));
  return outputs.find((output) => canonicalInputs.has(canonicalPath(output)));
}

/** The path with links resolved when it exists (two names of one file are one file). */
export function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * What `coi run -` and `coi test -` are told (when no file is named `-`): only `coi check`
 * reads a document from standard input.
 */
export const STDIN_NOT_READ = "'-': standard input is read only by coi check (coi check -); name a .coi file";

/** A FileError for a `-` argument where no file is named `-`; undefined when it is not one. */
export function stdinArgumentRefusal(arg: string, path: string): FileError | undefined {
  return arg === '-' && !entryExists(path) ? new FileError(`Cannot read ${STDIN_NOT_READ}.`) : undefined;
}

function expandPath(arg: string, options: ExpandOptions, problems: string[]): string[] {
  const path = resolve(options.cwd, arg);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (err) {
    problems.push(stdinArgumentRefusal(arg, path) !== undefined ? STDIN_NOT_READ : `'${arg}': ${describeFsError(err)}`);
    return [];
  }
  if (!isDirectory) return [path];
  let unreadableFolders = 0;
  const onUnreadable = (dir: string, err: unknown): void => {
    unreadableFolders++;
    if (options.onUnreadableFolder !== undefined) options.onUnreadableFolder(displayPath(dir, options.cwd), err);
    else problems.push(`'${dir}': ${describeFsError(err)}`);
  };
  const skipped: Skipped[] = [];
  const files = walk(path, onUnreadable, skipped).filter((f) => f.endsWith(options.extension));
  reportSkippedLinks(skipped.filter((s) => s.path.endsWith(options.extension)), options);
  // An unreadable folder was reported already; "no files" would say it twice.
  if (files.length === 0 && unreadableFolders === 0) problems.push(`'${arg}': no ${options.extension} files in this directory`);
  return files;
}

/**
 * Every file under `dir`, recursively, skipping node_modules and hidden folders.
 * A folder reached twice through links (`sub/up -> ..`) is walked once.
 */
function walk(dir: string, onUnreadable: (dir: string, err: unknown) => void, skipped: Skipped[], includeHidden = false, maxDepth = Infinity, visited = new Set<string>()): string[] {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    real = dir;
  }
  if (visited.has(real)) return [];
  visited.add(real);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    onUnreadable(dir, err);
    return [];
  }
  const files: string[] = [];
  for (const name of names) {
    const full = join(dir, name);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(full).isDirectory();
    } catch (err) {
      skipped.push({ path: full, err }); // a dangling link, a loop of links, or a file removed meanwhile
      continue;
    }
    if (isDirectory) {
      if (name === 'node_modules' || (name.startsWith('.') && !includeHidden) || maxDepth <= 1) continue;
      files.push(...walk(full, onUnreadable, skipped, includeHidden, maxDepth - 1, visited));
    } else files.push(full);
  }
  return files;
}

function expandGlob(pattern: string, options: ExpandOptions): string[] {
  const normalized = pattern.replace(/\\/g, '/');
  const segments = normalized.split('/');
  const fixed: string[] = [];
  while (segments.length > 1 && !isGlob(segments[0] as string)) fixed.push(segments.shift() as string);
  const base = resolve(options.cwd, fixed.length === 0 ? '.' : fixed.join('/') || '/');
  const matcher = globToRegExp(segments.join('/'));
  const includeHidden = segments.some((s) => s.startsWith('.'));
  let isDirectory = false;
  try {
    isDirectory = statSync(base).isDirectory();
  } catch {
    return [];
  }
  if (!isDirectory) return [];
  // Without `**`, a pattern of n segments never looks deeper than n levels.
  const maxDepth = segments.includes('**') || segments.some((s) => s.includes('**')) ? Infinity : segments.length;
  const onUnreadable = (dir: string, err: unknown): void => options.onUnreadableFolder?.(displayPath(dir, options.cwd), err);
  const matches = (file: string): boolean => matcher.test(relative(base, file).split(sep).join('/'));
  const skipped: Skipped[] = [];
  const files = walk(base, onUnreadable, skipped, includeHidden, maxDepth).filter(matches);
  reportSkippedLinks(skipped.filter((s) => matches(s.path)), options);
  return files;
}

interface Skipped {
  readonly path: string;
  readonly err: unknown;
}

/** Tells `onSkippedLink` of each skipped entry that is a symbolic link (a file removed meanwhile is simply gone). */
function reportSkippedLinks(skipped: readonly Skipped[], options: ExpandOptions): void {
  for (const { path, err } of skipped) {
    if (options.onSkippedLink === undefined || !isSymbolicLink(path)) continue;
    const code = (err as { code?: unknown } | null)?.code;
    const why = code === 'ENOENT' ? 'a symbolic link whose target does not exist' : code === 'ELOOP' ? 'a symbolic link in a loop of links' : `a symbolic link that cannot be followed: ${describeFsError(err)}`;
    options.onSkippedLink(displayPath(path, options.cwd), why);
  }
}

function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * A glob as a regular expression over `/`-separated relative paths:
 * `**` any number of folders, `*` any characters but `/`, `?` one character,
 * `{a,b}` alternatives; everything else literal.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  let braceDepth = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*' && glob[i + 1] === '*') {
      const atSegmentStart = i === 0 || glob[i - 1] === '/';
      const atSegmentEnd = i + 2 === glob.length || glob[i + 2] === '/';
      if (atSegmentStart && atSegmentEnd) {
        if (glob[i + 2] === '/') {
          source += '(?:[^/]+/)*';
          i += 2;
        } else {
          source += '.*';
          i += 1;
        }
        continue;
      }
      source += '[^/]*';
      i += 1;
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '{') {
      braceDepth++;
      source += '(?:';
    } else if (ch === '}' && braceDepth > 0) {
      braceDepth--;
      source += ')';
    } else if (ch === ',' && braceDepth > 0) source += '|';
    else source += ch.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  while (braceDepth-- > 0) source += ')';
  return new RegExp(`^${source}$`);
}

export { MAX_TEXT_BYTES };

/** The error code `readTextFile` gives a binary file (see describeFsError). */
export const BINARY_FILE = 'EBINARY';

/**
 * Reads a UTF-8 text file. A file with a NUL byte in its first 8,000 bytes is
 * binary (git's rule) and refused with the code BINARY_FILE: checking a model or an
 * image would otherwise print tens of thousands of "unexpected character" lines.
 */
export function readTextFile(path: string, warn?: (problem: string) => void): string {
  return decodeText(readTextBytes(path), warn);
}

/** The bytes of a file `readTextFile` would read, not decoded yet (a folder or a device is refused as it refuses them). */
export function readTextBytes(path: string): Buffer {
  // Pipes are read: `coi check /dev/stdin` is documented (docs/cli.md).
  refuseNonTextFile(statSync(path), true);
  return readFileSync(path);
}

/**
 * Refuses (FileError, exit 2) a source that is not UTF-8, at its first bad byte as
 * `FILE:LINE:COLUMN` (the column in characters), for a command that writes new files from it
 * (`into`: `the dataset`): read as U+FFFD, each bad byte would be written there as if it were the
 * text, valid UTF-8 that no later reader could tell from it. Reading it with a warning
 * (invalidUtf8Problem) is for commands that write nothing from it.
 */
export function refuseNonUtf8Source(bytes: Uint8Array, display: string, into: string): void {
  const at = invalidUtf8At(bytes);
  if (at === undefined) return;
  throw new FileError(`${display}:${at.line}:${at.column}: not UTF-8 text (byte ${at.byte} there): read as U+FFFD, it would be written into ${into} so. Save it as UTF-8 (from Latin-1 or Windows-1252, e.g. iconv -f WINDOWS-1252 -t UTF-8). Nothing was written.`);
}

/**
 * Where the bytes stop being UTF-8, as "LINE:COLUMN: ..." (1-based, the column in
 * characters of the decoded line), or undefined for valid UTF-8. Decoding replaces each
 * invalid byte with U+FFFD, which changes the text silently unless someone says so.
 */
export function invalidUtf8Problem(bytes: Buffer): string | undefined {
  const at = invalidUtf8At(bytes);
  if (at === undefined) return undefined;
  return `${at.line}:${at.column}: invalid UTF-8 (byte ${at.byte} at offset ${at.offset}); it is read as U+FFFD (\uFFFD), as is every other invalid byte. Save the file as UTF-8.`;
}

/**
 * The text of bytes read from a file or standard input, as UTF-8 (a byte order mark
 * is kept: the lexer skips it). Throws with the code BINARY_FILE for a NUL byte in the
 * first 8,000 bytes and ETOOLARGE past MAX_TEXT_BYTES (see describeFsError).
 */
export function decodeText(bytes: Buffer, warn?: (problem: string) => void): string {
  // Binary first: `cat /dev/zero | coi check -` is cut off as too large, but binary is what it is.
  if (bytes.subarray(0, 8000).includes(0)) throw Object.assign(new Error('binary file'), { code: BINARY_FILE });
  if (bytes.length > MAX_TEXT_BYTES) throw Object.assign(new Error('too large'), { code: 'ETOOLARGE' });
  if (warn !== undefined) {
    const problem = invalidUtf8Problem(bytes);
    if (problem !== undefined) warn(problem);
  }
  return bytes.toString('utf8');
}

/** A warning line for `invalidUtf8Problem`: `coi check: warning: x.coi:3:14: invalid UTF-8 ...`. */
export function utf8Warner(io: CliIO, command: string, display: string): (problem: string) => void {
  return (problem) => io.stderr(`coi ${command}: warning: ${display}:${problem}\n`);
}

/** The ExpandOptions.onSkippedLink of a command: `coi check: warning: skipped 'lp/a.coi': it is a symbolic link in a loop of links.` */
export function skippedLinkWarner(io: CliIO, command: string): (display: string, why: string) => void {
  return (display, why) => io.stderr(`coi ${command}: warning: skipped '${display}': it is ${why}.\n`);
}

export interface FileText {
  readonly file: FoundFile;
  readonly text: string;
}

/**
 * Reads every file; each one that cannot be read is reported on standard error
 * (`coi COMMAND: cannot read 'x': why.`) and counted, and the others go on.
 */
export function readFoundFiles(files: readonly FoundFile[], io: CliIO, command: string): { readonly texts: FileText[]; readonly unreadable: number } {
  const texts: FileText[] = [];
  let unreadable = 0;
  for (const file of files) {
    try {
      texts.push({ file, text: readTextFile(file.path, utf8Warner(io, command, file.display)) });
    } catch (err) {
      reportUnreadable(io, command, `'${file.display}'`, err);
      unreadable++;
    }
  }
  return { texts, unreadable };
}

/** The name standard input is shown under when no `--stdin-filename` names it. */
export const STDIN_DISPLAY = '<stdin>';

/**
 * Reads standard input as the text of `file` (its name in reports; schema files
 * resolve against its folder), decoded as a file would be. When it cannot be read
 * (binary, too large, closed), says so on standard error and returns undefined.
 * When `signal` aborts first (Ctrl-C), its reason is thrown.
 */
export async function readStdinFile(file: FoundFile, io: CliIO, command: string, signal?: AbortSignal): Promise<FileText | undefined> {
  try {
    return { file, text: decodeText(await io.readStdin(MAX_TEXT_BYTES, signal), utf8Warner(io, command, file.display)) };
  } catch (err) {
    if (signal?.aborted === true) throw err;
    const named = file.display === STDIN_DISPLAY ? '' : ` (as '${file.display}')`;
    reportUnreadable(io, command, `standard input${named}`, err);
    return undefined;
  }
}

export function reportUnreadable(io: CliIO, command: string, what: string, err: unknown): void {
  io.stderr(`coi ${command}: cannot read ${what}: ${describeFsError(err)}.\n`);
}

export interface OutputFile {
  /** A plain file name inside the folder written. */
  readonly name: string;
  readonly text: string;
}

export interface WrittenTemporary {
  readonly name: string;
  readonly temporary: string;
}

/**
 * Writes each file to a temporary name in `dir`, `NAME.partial-HOST-PID` (core/syntax/processes.ts,
 * as a GGUF conversion does). The temporaries that writers of the same names killed midway left
 * there (Ctrl-C or SIGKILL during a write: no cleanup runs) are removed first, when their
 * process is gone. When one write fails, the temporaries written so far are removed and the
 * error is thrown: nothing is left behind.
 */
export function writeTemporaries(dir: string, files: readonly OutputFile[]): WrittenTemporary[] {
  removeAbandonedTemporaries(dir, files);
  const written: WrittenTemporary[] = [];
  try {
    for (const file of files) {
      const temporary = partialPath(join(dir, file.name));
      written.push({ name: file.name, temporary }); // before writing: a half-written one is removed too
      writeFileSync(temporary, file.text);
    }
  } catch (error) {
    removeTemporaries(written);
    throw error;
  }
  return written;
}

const PARTIAL_MARK = '.partial-';

/**
 * `removeAbandonedPartials` for each of the files that has a temporary in `dir`, found in one
 * listing of the folder (an import of thousands of records does not list it once per record).
 */
function removeAbandonedTemporaries(dir: string, files: readonly OutputFile[]): void {
  if (files.length === 0) return; // all written directly (`/dev/stdout`): not even /dev is listed
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder yet: nothing was left there
  }
  const withTemporaries = new Set<string>();
  for (const name of names) {
    for (let at = name.indexOf(PARTIAL_MARK); at > 0; at = name.indexOf(PARTIAL_MARK, at + 1)) withTemporaries.add(name.slice(0, at));
  }
  for (const file of files) if (withTemporaries.has(file.name)) removeAbandonedPartials(join(dir, file.name));
}

/**
 * Whether `path` is written directly rather than replaced by a temporary renamed over it: what
 * is there, links followed, and is not a regular file. A device or a pipe (`/dev/stdout`, a
 * FIFO) would be replaced by a plain file, and whoever reads it would get nothing (a folder
 * fails as it would anyway). With `throughLinks`, a symbolic link whose target is missing too:
 * the write makes its target.
 */
function writtenDirectly(path: string, throughLinks: boolean): boolean {
  try {
    return !statSync(path).isFile();
  } catch {
    return throughLinks && entryExists(path);
  }
}

/**
 * Writes the files into the folder `dir`, which exists, so that none is left half-written: each
 * goes to a temporary (`writeTemporaries`) that takes its name, and the permissions of the file
 * it replaces, once all are whole. What is not a regular file (`writtenDirectly`) is written as
 * named, after the temporaries are whole. On a failure the temporaries and the files that were
 * new are removed again, and the error is thrown.
 */
function placeFiles(dir: string, files: readonly OutputFile[], throughLinks: boolean): void {
  const direct = files.filter((file) => writtenDirectly(join(dir, file.name), throughLinks));
  placeWritten(dir, direct, writeTemporaries(dir, files.filter((file) => !direct.includes(file))));
}

/**
 * The last step of `placeFiles`: the files written directly are written, and the temporaries
 * take their names. On a failure the temporaries and the files that were new are removed.
 */
function placeWritten(dir: string, direct: readonly OutputFile[], written: readonly WrittenTemporary[]): void {
  const placed: string[] = [];
  try {
    for (const file of direct) writeFileSync(join(dir, file.name), file.text);
    for (const { name, temporary } of written) {
      const target = join(dir, name);
      const isNew = !entryExists(target);
      const previous = isNew ? undefined : lstatSync(target);
      if (previous?.isFile() === true) chmodSync(temporary, previous.mode & 0o7777);
      renameSync(temporary, target);
      if (isNew) placed.push(target);
    }
  } catch (error) {
    removeTemporaries(written);
    for (const target of placed) rmSync(target, { force: true });
    throw error;
  }
}

/** Removes temporaries `writeTemporaries` wrote (those already renamed are gone). */
export function removeTemporaries(written: readonly WrittenTemporary[]): void {
  for (const { temporary } of written) rmSync(temporary, { force: true });
}

/**
 * Writes `text` to the file `path` so that it is never left half-written: to a temporary in
 * its folder first, which then takes the file's name (and keeps the previous file's
 * permissions). A failure (a full disk, a size limit) removes the temporary and leaves the
 * previous file as it was. A symbolic link is written through: its target is
 * replaced. What is not a regular file (`/dev/stdout`, a pipe) has nothing to keep: it is written
 * directly, as is a link whose target is missing (the target is made).
 */
export function replaceFile(path: string, text: string): void {
  // Not the canonical path of what is written directly: that of /dev/stdout on a pipe is '/proc/PID/fd/pipe:[N]'.
  const target = writtenDirectly(path, true) ? path : canonicalPath(path);
  placeFiles(dirname(target), [{ name: basename(target), text }], true);
}

/**
 * Writes the files into `dir` (made if missing) all or nothing: every file goes to a temporary
 * name first, and only when all are written do they take their names (`placeFiles`). Each
 * replaces what is there — a symbolic link itself, never the file it points to — except a
 * device or a pipe, which is written directly. On a failure the temporaries, the files that
 * were new and the folders made are removed again, and the error is thrown.
 */
export function writeAllOrNothing(dir: string, files: readonly OutputFile[]): void {
  const made: string[] = [];
  try {
    makeDirectories(dir, made);
    placeFiles(dir, files, false);
  } catch (error) {
    removeMadeFolders(made);
    throw error;
  }
}

/** Files `writeAllOrNothingCancellable` writes between two looks at its signal. */
const FILES_PER_BATCH = 100;

/**
 * Lets the signals that came while synchronous work ran reach their handlers (`withInterrupt`'s
 * abort): Node runs a signal's handler only when the event loop turns.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolvePromise) => setImmediate(resolvePromise));
}

/**
 * `writeAllOrNothing` that Ctrl-C (the `signal`) can cancel while the temporaries are written:
 * they are written in batches with a look at the signal between two, and once more before
 * any takes its name. A cancel removes the temporaries and the folders made and throws the
 * signal's reason: the folder is as it was. The renames that follow are not cancelled
 * midway: a signal then finds all the files in place.
 */
export async function writeAllOrNothingCancellable(dir: string, files: readonly OutputFile[], signal: AbortSignal): Promise<void> {
  await inMadeFolder(dir, () => placeFilesCancellable(dir, files, false, signal));
}

/**
 * `replaceFile` that Ctrl-C (the `signal`) can cancel up to the moment the file takes its name:
 * the temporary is written whole (one write; a signal that comes meanwhile is seen after it),
 * then the signals are let in. A cancel removes the temporary (and, with `makeFolders`, the
 * folders made for it) and throws the signal's reason: a previous file is left byte for byte.
 * With `makeFolders`, the file's missing folders are made first.
 */
export async function replaceFileCancellable(path: string, text: string, signal: AbortSignal, { makeFolders = false } = {}): Promise<void> {
  const place = async (): Promise<void> => {
    const target = writtenDirectly(path, true) ? path : canonicalPath(path);
    await placeFilesCancellable(dirname(target), [{ name: basename(target), text }], true, signal);
  };
  await (makeFolders ? inMadeFolder(dirname(path), place) : place());
}

/** `work` once the folder `dir` is made; when it fails, the folders made are removed again and its error is thrown. */
async function inMadeFolder(dir: string, work: () => Promise<void>): Promise<void> {
  const made: string[] = [];
  try {
    makeDirectories(dir, made);
    await work();
  } catch (error) {
    removeMadeFolders(made);
    throw error;
  }
}

/**
 * `placeFiles` with a look at the signal before each batch of temporaries and before any takes
 * its name; a cancel (or a failure) removes the temporaries and throws.
 */
async function placeFilesCancellable(dir: string, files: readonly OutputFile[], throughLinks: boolean, signal: AbortSignal): Promise<void> {
  const written: WrittenTemporary[] = [];
  try {
    const direct = files.filter((file) => writtenDirectly(join(dir, file.name), throughLinks));
    const replaced = files.filter((file) => !direct.includes(file));
    for (let at = 0; at < replaced.length; at += FILES_PER_BATCH) {
      await yieldToEventLoop();
      signal.throwIfAborted();
      written.push(...writeTemporaries(dir, replaced.slice(at, at + FILES_PER_BATCH)));
    }
    await yieldToEventLoop();
    signal.throwIfAborted();
    placeWritten(dir, direct, written);
  } catch (error) {
    removeTemporaries(written);
    throw error;
  }
}

/** Removes again the folders `makeDirectories` made, deepest first; one another process wrote into meanwhile stays. */
export function removeMadeFolders(made: readonly string[]): void {
  for (const level of [...made].reverse()) {
    try {
      rmdirSync(level);
    } catch {
      // not empty (another process wrote into it meanwhile): it stays
    }
  }
}
