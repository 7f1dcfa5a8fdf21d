// Floods (issue 12 item 16): a document of random bytes, or one with a problem on each of its
// lines, gives tens or hundreds of thousands of problems; core keeps the first 1,000 (errors
// first) and one COI000 note with how many were left out, pulled or pushed, and the server
// goes on answering. The cap itself is tested in test/core/diagnosticCap.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { LEFT_OUT_CODE, MAX_DIAGNOSTICS_PER_DOCUMENT, totalOf } from '../../core/diagnostics';
import { checkDocument } from '../../core/check';
import { fullCapabilities, LspClient, minimalCapabilities, newUri } from './harness';
import { problemChain } from './largeChain';

// Random bytes decoded as UTF-8 (replacement characters included), seeded by the bytes themselves.
const RANDOM_TEXT = new TextDecoder().decode(randomBytes(1 << 20));
// About 3.5 MB, 200,000 lines: 200,000 errors and 40,002 warnings.
const FLOOD = problemChain(200_000);

const CAPABILITIES = [
  ['pulled', fullCapabilities()],
  ['pushed', minimalCapabilities()],
] as const;

async function diagnosticsOf(client: LspClient, uri: string, pulled: boolean, version: number): Promise<Diagnostic[]> {
  return pulled ? client.pullDiagnostics(uri) : (await client.waitForPublished(uri, (p) => p.version === version)).diagnostics;
}

function noteOf(items: readonly Diagnostic[]): string {
  const note = items.at(-1);
  assert.equal(note?.code, LEFT_OUT_CODE);
  return typeof note?.message === 'string' ? note.message : '';
}

for (const [kind, capabilities] of CAPABILITIES) {
  void test(`LSP (${kind}): 1 MiB of random bytes gives at most ${MAX_DIAGNOSTICS_PER_DOCUMENT} problems and the note`, async () => {
    const all = totalOf(checkDocument(RANDOM_TEXT).counts);
    assert.ok(all > MAX_DIAGNOSTICS_PER_DOCUMENT, `the flood is real: ${all} problems in core`);
    const client = await LspClient.start({ capabilities, settings: { diagnostics: { debounceMs: 0 } } });
    try {
      const uri = newUri('flood');
      await client.open(uri, RANDOM_TEXT);
      const items = await diagnosticsOf(client, uri, kind === 'pulled', 1);
      assert.equal(items.length, MAX_DIAGNOSTICS_PER_DOCUMENT + 1);
      assert.match(noteOf(items), new RegExp(`^${(all - MAX_DIAGNOSTICS_PER_DOCUMENT).toLocaleString('en-US')} more (problems|errors) in this file are not shown`));
    } finally {
      await client.stop();
    }
  });

  void test(`LSP (${kind}): a problem on each of 200,000 lines gives the first ${MAX_DIAGNOSTICS_PER_DOCUMENT} errors and the note, and the server goes on`, async () => {
    const client = await LspClient.start({ capabilities, settings: { diagnostics: { debounceMs: 0 } } });
    try {
      const uri = newUri('lines');
      await client.open(uri, FLOOD.text);
      const items = await diagnosticsOf(client, uri, kind === 'pulled', 1);
      assert.equal(items.length, MAX_DIAGNOSTICS_PER_DOCUMENT + 1);
      assert.ok(items.slice(0, -1).every((d) => d.severity === 1), 'errors first');
      assert.deepEqual(items.at(-1)?.range.start, items.at(-2)?.range.start, 'the note is at the last problem shown');
      assert.equal(noteOf(items), '239,002 more problems in this file are not shown (199,000 errors, 40,002 warnings): at most 1,000 problems are shown per file, errors first.');
      // An edit that fixes the file is checked as usual.
      const fixed = await client.edit(uri, 0, FLOOD.text.length, 'chain fixed\ninput text: text\nstep only {\n  instruction "Summarize the text."\n  output text\n}\n');
      assert.deepEqual(await diagnosticsOf(client, uri, kind === 'pulled', fixed.version), []);
    } finally {
      await client.stop();
    }
  });
}
