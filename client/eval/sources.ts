/**
 * The items of an evaluation, read from disk the way `coi eval` reads them
 * (same ids and hashes, so a store resumes from the editor or the terminal).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Chain } from '../../core/chain';
import { datasetFormatOf, EvalInputError, itemsFromDataset, itemsFromRecords, itemsFromTests, selectItems, type EvalItem, type EvalSource } from '../../core/eval/index';
import type { RecordsFormat } from '../../core/records';
import { parseChainText } from '../run/documents';
import { displayPath } from '../../core/syntax';

export interface LoadedItems {
  readonly items: readonly EvalItem[];
  /** The chains of `.coi` files (tests and dataset sources; records bring their own). */
  readonly chains: readonly Chain[];
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new EvalInputError(path, [`cannot read ${what}: ${(error as Error).message}`]);
  }
}

function loadChain(path: string, root: string): Chain {
  const parsed = parseChainText(readText(path, 'the chain'), path);
  if (parsed.hasErrors) throw new EvalInputError(displayPath(path, root), ['the chain has errors: fix them (see Problems) before evaluating it.']);
  return parsed.chain;
}

/**
 * Throws EvalInputError (with the file and line) on unreadable or malformed input. Only the
 * items of the source's subset when it has one (a store started with `coi eval --sample N`).
 */
export function loadItems(source: EvalSource): LoadedItems {
  const loaded = loadAllItems(source);
  return { ...loaded, items: selectItems(loaded.items, source.subset) };
}

function loadAllItems(source: EvalSource): LoadedItems {
  const root = source.root ?? dirname(source.chainFile ?? source.files[0] ?? '.');
  if (source.kind === 'records') {
    const path = source.files[0] ?? '';
    const items = itemsFromRecords(readText(path, 'the records file'), (source.format ?? 'json') as RecordsFormat, { source: displayPath(path, root), sourceName: basename(path), baseDir: dirname(path) });
    return { items, chains: [] };
  }
  if (source.kind === 'dataset') {
    const chainFile = source.chainFile ?? '';
    const chain = loadChain(chainFile, root);
    const path = source.files[0] ?? '';
    const items = itemsFromDataset(chain, readText(path, 'the dataset'), datasetFormatOf(path), { source: displayPath(path, root), display: displayPath(chainFile, root), file: chainFile, baseDir: dirname(chainFile) });
    return { items, chains: [chain] };
  }
  const chains = source.files.map((file) => loadChain(file, root));
  const items = chains.flatMap((chain, i) => {
    const file = source.files[i] ?? '';
    return itemsFromTests(chain, { display: displayPath(file, root), file, baseDir: dirname(file) });
  });
  if (items.length === 0) throw new EvalInputError(displayPath(source.files[0] ?? '', root), ['no test blocks: nothing to evaluate. Add `test` blocks, or evaluate a dataset file.']);
  return { items, chains };
}
