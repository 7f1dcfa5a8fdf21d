/**
 * What `coi run` says about a local model: its download progress (a model given
 * as a URL, served on 127.0.0.1 into a temporary models folder) and where it ran
 * (CPU or GPU), on stderr, or in the `--json` record. The real bundled CLI, the
 * real worker and the tiny generated GGUF.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { downloadProgressReporter } from '../../cli/commands/runSupport';
import type { RunRecordWithBackends } from '../../core/runner/runStore';
import { serveTinyModel, type ServedTinyModel } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { tempDir } from '../helpers/tempDir';
import { coiAsync, ensureBundle } from './cliProcess';

const CHAIN = `chain downloaded
input article: text

model tiny {
  provider local
  path "URL"
  threads 1
  context 512
}

step summary {
  instruction "Summarize the article."
  output text
  max_tokens 4
  temperature 0
}

test "runs" {
  given article = "A short text."
  expect summary not equals "zzzz-never-written"
}
`;

void describe('coi run: model download progress and where the model runs', () => {
  let server: ServedTinyModel;
  let url: string;

  before(async () => {
    ensureBundle();
    workerScriptPath();
    server = await serveTinyModel();
    url = server.url('tiny.gguf');
  });
  after(() => server.close());

  const chainIn = (dir: string): string => {
    const file = join(dir, 'downloaded.coi');
    writeFileSync(file, CHAIN.replace('URL', url));
    return file;
  };

  void test('the first run shows the download with MB and the URI, then the device line; the second run downloads nothing', async () => {
    const dir = tempDir();
    const modelsDir = join(dir, 'models');
    const env = { COI_MODEL: '', COI_MODELS_DIR: modelsDir, COI_CACHE_DIR: join(dir, 'cache') };
    const first = await coiAsync(['run', chainIn(dir), '-i', 'The storm closed three roads.', '--no-cache'], { cwd: dir, env });
    assert.equal(first.code, 0, first.stderr);
    const size = (server.bytes.length / (1024 * 1024)).toFixed(1);
    const downloadLines = first.stderr.split('\n').filter((l) => l.startsWith('Downloading '));
    // Not a terminal: whole lines, at most one per 10%, the last one complete.
    assert.ok(downloadLines.length >= 1 && downloadLines.length <= 11, first.stderr);
    assert.match(downloadLines.at(-1) ?? '', new RegExp(`^Downloading ${url.replace(/[.]/g, '\\.')}: ${size.replace('.', '\\.')}/${size.replace('.', '\\.')} MB \\(100%\\)(?:, [\\d.]+ MB/s)?$`));
    assert.ok(!first.stderr.includes('\r'), 'no carriage returns outside a terminal');
    assert.deepEqual(readdirSync(modelsDir).filter((f) => f.endsWith('.gguf')), ['tiny.gguf']);
    // One device line, after the step that loaded the model, before the summary.
    // The step's 4 tokens are all the random model gets: its cut output is warned about before the device line.
    assert.match(first.stderr, /✓ summary \([^)]*\)\n(?: {2}⚠ summary: the output was cut at \d+ tokens[^\n]*\n)?local model tiny\.gguf on CPU \(1 thread\)\nDone: /);
    assert.equal(first.stderr.match(/^local model /gm)?.length, 1);

    const downloadedAt = statSync(join(modelsDir, 'tiny.gguf')).mtimeMs;
    const second = await coiAsync(['run', chainIn(dir), '-i', 'Another text.', '--no-cache'], { cwd: dir, env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(statSync(join(modelsDir, 'tiny.gguf')).mtimeMs, downloadedAt, 'the downloaded file is reused');
    assert.ok(!second.stderr.includes('Downloading '), second.stderr);
    assert.match(second.stderr, /local model tiny\.gguf on CPU \(1 thread\)/);
  });

  void test('--json records where each local model ran in the run record (and on disk), with no stderr device line', async () => {
    const dir = tempDir();
    const env = { COI_MODEL: '', COI_MODELS_DIR: join(dir, 'models'), COI_CACHE_DIR: join(dir, 'cache') };
    const r = await coiAsync(['run', chainIn(dir), '-i', 'A text.', '--json', '--no-cache'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(r.stdout) as RunRecordWithBackends;
    assert.deepEqual(record.backends, [{ model: url, gpu: 'cpu', gpuDevices: [], vramBytes: 0, threads: 1 }]);
    assert.ok(!r.stderr.includes('local model '), r.stderr);
    const saved = JSON.parse(readFileSync(join(dir, 'cache', 'runs', `${record.id}.json`), 'utf8')) as RunRecordWithBackends;
    assert.deepEqual(saved.backends, record.backends);
  });

  void test('coi test shows the download and the device line on stderr too, whatever the reporter', async () => {
    const dir = tempDir();
    const env = { COI_MODEL: '', COI_MODELS_DIR: join(dir, 'models'), COI_CACHE_DIR: join(dir, 'cache') };
    const r = await coiAsync(['test', chainIn(dir), '--reporter', 'json', '--no-cache'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Downloading http:\/\/127\.0\.0\.1:\d+\/tiny\.gguf: [\d.]+\/[\d.]+ MB \(100%\)(?:, [\d.]+ MB\/s)?$/m);
    assert.match(r.stderr, /^local model tiny\.gguf on CPU \(1 thread\)$/m);
    assert.equal((JSON.parse(r.stdout) as { status: string }[])[0]?.status, 'passed');
  });

  void test('an unreachable or stalled download fails within its deadline, saying which', async () => {
    const silent = createServer(() => undefined); // accepts the connection, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const stalledUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/x.gguf`;
    try {
      for (const target of [stalledUrl, 'https://127.0.0.1:59999/x.gguf']) {
        const dir = tempDir();
        const env = { COI_MODEL: '', COI_MODELS_DIR: join(dir, 'models'), COI_CACHE_DIR: join(dir, 'cache'), COI_DOWNLOAD_STALL_SECONDS: '1' };
        writeFileSync(join(dir, 'c.coi'), CHAIN.replace('URL', target));
        const r = await coiAsync(['run', join(dir, 'c.coi'), '-i', 'x', '--no-cache'], { cwd: dir, env });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`Could not download ${target.replace(/[.]/g, '\\.')}: no answer from the server within 1 s \\(is the URL right and the server reachable\\?\\)\\. Try again, or download the GGUF file yourself and give its path\\.`));
      }
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  void test('the progress line shows the rate once a download has run for a while', () => {
    const written: string[] = [];
    let now = 0;
    const report = downloadProgressReporter({ stdout: () => undefined, stderr: (t) => written.push(t), cwd: '/', env: {}, stderrIsTTY: false, readStdin: () => Promise.resolve(Buffer.alloc(0)) }, () => now);
    const total = 100 * 1024 * 1024;
    report({ uri: 'u', downloadedSize: 0, totalSize: total });
    now = 2000;
    report({ uri: 'u', downloadedSize: total / 2, totalSize: total });
    assert.deepEqual(written, ['Downloading u: 0.0/100.0 MB (0%)\n', 'Downloading u: 50.0/100.0 MB (50%), 25.0 MB/s\n']);
  });

  void test('on a terminal the progress updates one line in place and ends it when complete', () => {
    const written: string[] = [];
    const report = downloadProgressReporter({ stdout: () => undefined, stderr: (t) => written.push(t), cwd: '/', env: {}, stderrIsTTY: true, readStdin: () => Promise.resolve(Buffer.alloc(0)) });
    const total = 300 * 1024 * 1024;
    for (const part of [0.05, 0.5, 1]) report({ uri: 'hf:user/model:Q4', downloadedSize: total * part, totalSize: total });
    const text = written.join('');
    assert.equal(text.split('\n').length, 2, 'one finished line');
    assert.deepEqual(
      text.split('\r').filter(Boolean).map((l) => l.replace('\x1b[K', '')),
      ['Downloading hf:user/model:Q4: 15.0/300.0 MB (5%)', 'Downloading hf:user/model:Q4: 150.0/300.0 MB (50%)', 'Downloading hf:user/model:Q4: 300.0/300.0 MB (100%)\n'],
    );
    report.endLine();
    assert.equal(written.join(''), text, 'a finished line is not ended twice');
    // A download that stops half-way (an error, Ctrl-C): the next message starts on a new line.
    report({ uri: 'hf:user/other:Q4', downloadedSize: total / 2, totalSize: total });
    report.endLine();
    assert.ok(written.join('').endsWith('150.0/300.0 MB (50%)\n'));
  });
});
