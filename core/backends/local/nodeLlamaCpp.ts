/**
 * Loads node-llama-cpp (ESM only) from our CommonJS output. A plain `import()`
 * would be rewritten to `require()` by TypeScript, so the import is built at run
 * time; the specifier is resolved first so it works from out/ (tsc) and from the
 * esbuild bundle dist/worker.js whatever the current directory.
 */
import { pathToFileURL } from 'node:url';

export type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let loading: Promise<NodeLlamaCpp> | undefined;

export function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  loading ??= (async () => {
    let specifier = 'node-llama-cpp';
    try {
      specifier = pathToFileURL(require.resolve('node-llama-cpp')).href;
    } catch {
      // Fall back to the bare name (resolved by Node's ESM loader).
    }
    return (await dynamicImport(specifier)) as NodeLlamaCpp;
  })();
  return loading;
}
