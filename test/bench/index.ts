// `npm run bench`: runs every benchmark module in test/bench/*.bench.ts in one process
// and prints their figures. Each module exports `run(): Promise<void>`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const modules = readdirSync(__dirname)
    .filter((name) => name.endsWith('.bench.js'))
    .filter((name) => only.length === 0 || only.some((o) => name.startsWith(o)))
    .sort();
  for (const name of modules) {
    console.log(`\n== ${name.replace(/\.bench\.js$/, '')} ==`);
    const mod = (await import(join(__dirname, name))) as { run?: () => Promise<void> };
    if (typeof mod.run !== 'function') throw new Error(`${name} does not export run()`);
    await mod.run();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
