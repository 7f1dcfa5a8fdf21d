import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { convertToGguf, PythonSetupError } from '../../core/finetune';
import { partialPath } from '../../core/syntax/processes';
import { deadPid } from '../helpers/processes';
import { standInLlamaCpp as standInConverter, standInPython } from '../helpers/standInConverter';
import { tempDir } from '../helpers/tempDir';

/**
 * The stand-in converter (test/helpers/standInConverter.ts): it writes the start of a GGUF to
 * --outfile and then fails when the model folder is named "broken", as a converter killed or
 * crashing halfway does.
 */
const FAILING_CONVERTER = `const args = process.argv.slice(2);
const out = args[args.indexOf('--outfile') + 1];
require('node:fs').writeFileSync(out, 'GGUF' + 'x'.repeat(64));
if (args[0].endsWith('broken')) { console.error('RuntimeError: out of memory'); process.exit(1); }
if (args[0].endsWith('traceback')) {
  console.error('INFO:hf-to-gguf:Loading model: traceback');
  console.error('Traceback (most recent call last):\\n  File "convert_hf_to_gguf.py", line 9, in <module>\\n    main()\\nValueError: Couldn\\'t instantiate the backend tokenizer from one of: (1) a tokenizers library serialization file');
  process.exit(1);
}
if (args[0].endsWith('logged')) { console.error('INFO:hf-to-gguf:Loading model: logged\\nERROR:hf-to-gguf:Error: /nonexistent is not a directory'); process.exit(1); }
`;

const venv = { dir: '', python: standInPython(), requirements: '', ready: true };
const standInLlamaCpp = (root: string): Record<string, string> => standInConverter(root, FAILING_CONVERTER);

void test('a conversion that fails halfway leaves nothing under the GGUF name, so the next run does not take it as converted', async () => {
  const root = tempDir();
  const env = standInLlamaCpp(root);
  const outFile = join(root, 'job', 'base-f16.gguf');
  await assert.rejects(convertToGguf({ venv, source: join(root, 'broken'), outFile, outType: 'f16', env }), (error: unknown) => {
    assert.ok(error instanceof PythonSetupError);
    assert.match(error.message, /RuntimeError: out of memory/);
    return true;
  });
  assert.equal(existsSync(outFile), false, 'no half-written GGUF under its name');
  assert.deepEqual(readdirSync(join(root, 'job')), [], 'the partial file is removed too');

  const written = await convertToGguf({ venv, source: join(root, 'model'), outFile, outType: 'f16', env });
  assert.equal(written, outFile);
  assert.match(readFileSync(outFile, 'latin1'), /^GGUF/);
  assert.deepEqual(readdirSync(join(root, 'job')), ['base-f16.gguf']);
});

void test('a converter that fails is told in one line: its exception (never the traceback) or its last line, and the log that has the rest', async () => {
  const root = tempDir();
  const env = standInLlamaCpp(root);
  const logFile = join(root, 'gguf.log');
  const failure = async (source: string): Promise<string> => {
    try {
      await convertToGguf({ venv, source: join(root, source), outFile: join(root, 'out.gguf'), outType: 'f16', env, logFile });
    } catch (error) {
      assert.ok(error instanceof PythonSetupError);
      return error.message;
    }
    throw new Error('the conversion did not fail');
  };
  assert.equal(await failure('traceback'), `convert_hf_to_gguf.py failed (exit 1): ValueError: Couldn't instantiate the backend tokenizer from one of: (1) a tokenizers library serialization file (see ${logFile}).`);
  assert.match(readFileSync(logFile, 'utf8'), /Traceback \(most recent call last\):\n {2}File "convert_hf_to_gguf\.py"/, 'the whole output is in the log');
  assert.equal(await failure('logged'), `convert_hf_to_gguf.py failed (exit 1): ERROR:hf-to-gguf:Error: /nonexistent is not a directory (see ${logFile}).`);
});

/** The pid of a process that has ended. */
void test("a conversion killed with SIGKILL left its partial file: the next conversion removes it, and keeps a living process's and another host's", async () => {
  const root = tempDir();
  const env = standInLlamaCpp(root);
  const job = join(root, 'job');
  mkdirSync(job);
  const outFile = join(job, 'base-f16.gguf');
  const killed = partialPath(outFile, deadPid());
  const living = partialPath(outFile, process.ppid);
  const otherHost = `${outFile}.partial-another-host-${deadPid()}`;
  for (const file of [killed, living, otherHost]) writeFileSync(file, 'GGUF' + 'x'.repeat(64));

  await convertToGguf({ venv, source: join(root, 'model'), outFile, outType: 'f16', env });
  assert.deepEqual(readdirSync(job).sort(), ['base-f16.gguf', basename(living), basename(otherHost)].sort());
});

void test('a clone of the converters killed halfway is removed by the next clone', async () => {
  const root = tempDir();
  const env = standInLlamaCpp(root);
  await convertToGguf({ venv, source: join(root, 'model'), outFile: join(root, 'a.gguf'), outType: 'f16', env });
  const clones = join(root, 'cache', 'llama.cpp');
  const [key] = readdirSync(clones);
  assert.ok(key !== undefined);
  rmSync(join(clones, key), { recursive: true });
  const killedClone = partialPath(join(clones, key), deadPid());
  mkdirSync(join(killedClone, '.git'), { recursive: true });

  await convertToGguf({ venv, source: join(root, 'model'), outFile: join(root, 'b.gguf'), outType: 'f16', env });
  assert.deepEqual(readdirSync(clones), [key]);
});
