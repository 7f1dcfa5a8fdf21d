/**
 * Loads node-llama-cpp (ESM only) from our CommonJS output. A plain `import()`
 * would be rewritten to `require()` by TypeScript, so the import is built at run
 * time; the specifier is resolved first so it works from out/ (tsc) and from the
 * esbuild bundle dist/worker.js whatever the current directory.
 */
import { pathToFileURL } from 'node:url';
import { BackendError } from '../types';

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
    try {
      return (await dynamicImport(specifier)) as NodeLlamaCpp;
    } catch (error) {
      throw runtimeUnavailable(error);
    }
  })();
  return loading;
}

function runtimeUnavailable(error: unknown): BackendError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new BackendError(
    'runtime-unavailable',
    `Local models need node-llama-cpp, which could not be loaded here (${process.platform}-${process.arch}): ${reason}. ` +
      'Install the CoI Studio package built for this platform (it carries node-llama-cpp), or run `npm ci` in a checkout; ' +
      'OpenAI-compatible profiles work without it.',
    { cause: error },
  );
}
