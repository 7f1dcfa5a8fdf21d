/**
 * `npm run make-tiny-model -- OUT.gguf [--seed N] [--omit KEY]...`
 * Writes the tiny deterministic test model (see tinyModel.ts).
 */
import { resolve } from 'node:path';
import { writeTinyModel } from './tinyModel';

function main(argv: readonly string[]): number {
  let out: string | undefined;
  let seed: number | undefined;
  const omitKeys: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--seed') seed = Number(argv[++i]);
    else if (arg === '--omit') omitKeys.push(argv[++i] ?? '');
    else if (arg === '--help' || arg === '-h') out = undefined;
    else out = arg;
  }
  if (!out || (seed !== undefined && !Number.isInteger(seed))) {
    console.error('usage: npm run make-tiny-model -- OUT.gguf [--seed N] [--omit METADATA_KEY]...');
    return 2;
  }
  const file = writeTinyModel(resolve(out), { seed, omitKeys });
  console.log(`wrote ${file}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
