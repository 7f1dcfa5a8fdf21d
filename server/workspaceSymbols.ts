/**
 * Workspace symbols over every `.coi` file in the workspace folders: open documents as
 * edited, the others read from disk (parsed once per modification time).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkspaceSymbolRequest, type CancellationToken, type SymbolInformation } from 'vscode-languageserver/node';
import { flatSymbols, fuzzyMatches } from '../core/language';
import { LineMap, parse } from '../core/syntax';
import { filePathOf } from './uris';
import { cancelledError, stateOf, type Feature, type ServerContext, type StateKey } from './context';
import { rangeOf } from './convert';
import { symbolInformation } from './documentSymbols';

const SKIPPED_FOLDERS = new Set(['node_modules', '.git', 'dist', 'out', '.vscode-test', '.coi-cache']);
const MAX_FILES = 5000;
const MAX_RESULTS = 1000;

interface FileSymbols {
  readonly mtimeMs: number;
  readonly symbols: readonly SymbolInformation[];
}

/** Symbols of files on disk, by path, kept while their mtime holds. */
const DISK_CACHE: StateKey<Map<string, FileSymbols>> = { name: 'workspace symbols on disk', create: () => new Map() };

export const workspaceSymbols: Feature = {
  registrations: [
    {
      dynamic: (caps) => caps.workspace?.symbol?.dynamicRegistration === true,
      capability: () => ({ workspaceSymbolProvider: true }),
      register: (registrations) => registrations.add(WorkspaceSymbolRequest.type, {}),
    },
  ],
  filesChanged(ctx, changes) {
    for (const change of changes) {
      const path = filePathOf(change.uri);
      if (path !== undefined) stateOf(ctx, DISK_CACHE).delete(path);
    }
  },
  install(ctx) {
    ctx.connection.onWorkspaceSymbol(async (params, token) => {
      const query = params.query.trim();
      const out: SymbolInformation[] = [];
      const open = new Set<string>();
      for (const document of ctx.documents.all()) {
        open.add(document.uri);
        const symbols = flatSymbols(ctx.analyses.get(document).file).map((s) => symbolInformation(s, document.uri, rangeOf(document, s.span)));
        collect(out, symbols, query);
      }
      for (const path of await coiFiles(ctx, token)) {
        if (token.isCancellationRequested) throw cancelledError();
        const uri = pathToFileURL(path).href;
        if (open.has(uri)) continue;
        const symbols = await fileSymbols(ctx, path, uri);
        collect(out, symbols, query);
        if (out.length >= MAX_RESULTS) break;
      }
      return out.slice(0, MAX_RESULTS);
    });
  },
};

function collect(out: SymbolInformation[], symbols: readonly SymbolInformation[], query: string): void {
  for (const s of symbols) if (query === '' || fuzzyMatches(query, s.name)) out.push(s);
}

async function fileSymbols(ctx: ServerContext, path: string, uri: string): Promise<readonly SymbolInformation[]> {
  try {
    const { mtimeMs } = await stat(path);
    const cache = stateOf(ctx, DISK_CACHE);
    const cached = cache.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached.symbols;
    const text = await readFile(path, 'utf8');
    const lines = new LineMap(text);
    const symbols = flatSymbols(parse(text).file).map((s) => symbolInformation(s, uri, lines.rangeOf(s.span)));
    cache.set(path, { mtimeMs, symbols });
    return symbols;
  } catch (error) {
    ctx.connection.console.warn(`Reading ${path} for workspace symbols failed: ${String(error)}`);
    return [];
  }
}

/** Every `.coi` file under the workspace folders (bounded; build and dependency folders skipped). */
async function coiFiles(ctx: ServerContext, token: CancellationToken): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (found.length >= MAX_FILES || token.isCancellationRequested) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith('.')) await walk(join(dir, entry.name));
      } else if (entry.isFile() && entry.name.endsWith('.coi')) found.push(join(dir, entry.name));
    }
  };
  for (const folder of ctx.workspaceFolders) {
    // A folder with no local path (a UNC host, an encoded '/') is skipped, not fatal to the others.
    const path = filePathOf(folder);
    if (path !== undefined) await walk(path);
    else if (folder.startsWith('file:')) ctx.connection.console.warn(`Workspace symbols: ${folder} has no local path here; its files are not searched.`);
  }
  return found.sort();
}
