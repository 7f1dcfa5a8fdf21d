// Floods (issue 12 item 16): a document of random bytes, or one with a problem on each of its
// lines, gives tens or hundreds of thousands of problems; core keeps the first 1,000 (errors
// first) and one COI000 note with how many were left out, pulled or pushed, and the server
// goes on answering. The cap itself is tested in test/core/diagnosticCap.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Diagnostic, Hover, MarkupContent } from 'vscode-languageserver-protocol';
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

void test('LSP: past the cap, hovers still tell the truth: a step keeps its composability warning, and a problem left out of the list is explained at the cursor', async () => {
  // 1,005 lines with a misspelled key: an error (COI219) on the first, a warning (COI220) on
  // each of the others. Errors come first, so the list has no room for the last warnings or for
  // step b's composability warning (COI302).
  const lines = ['chain capped', 'input article: text lang=en', 'step a {', '  instruction "Summarize the article."', '  output text lang=fr'];
  for (let i = 0; i < 1005; i++) lines.push('  temprature 0.3');
  lines.push('}', 'step b {', '  instruction "Translate the English text into German."', '  output text lang=de', '}', '');
  const text = lines.join('\n');
  const client = await LspClient.start({ capabilities: fullCapabilities() });
  try {
    const uri = newUri('capped-hover');
    const doc = await client.open(uri, text);
    const items = await client.pullDiagnostics(uri);
    assert.match(noteOf(items), /^6 more warnings in this file are not shown/);
    assert.ok(!items.some((d) => d.code === 'COI302'), 'the composability warning is one of those left out');
    const hoverAt = async (offset: number): Promise<string> => {
      const hover = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: doc.positionAt(offset) });
      return hover === null ? '' : (hover.contents as MarkupContent).value;
    };
    const step = await hoverAt(text.indexOf('step b') + 6);
    assert.match(step, /\*\*Composability:\*\*\n- ⚠ Step "a" produces French text but step "b" expects English\. \(COI302\)/);
    assert.doesNotMatch(step, /composes with this step/);
    assert.match(step, /Not in the Problems list[\s\S]*- warning COI302: Step "a" produces French text/);
    // The last misspelled key's warning is not in the list: its hover says what it is.
    const last = await hoverAt(text.lastIndexOf('temprature') + 3);
    assert.match(last, /Not in the Problems list[\s\S]*- warning COI220: 'temprature' is given twice in step "a"; the first one counts\./);
    // The first one's error is in the list: nothing more to say there.
    assert.equal(await hoverAt(text.indexOf('temprature') + 3), '');
  } finally {
    await client.stop();
  }
});

void test("LSP: past the cap, a profile's warning that it would send OpenAI's key to another host (COI510) is still in the Problems list", async () => {
  // 1,001 warnings (COI509: `model` set again and again) ahead of the profile's api_key_env.
  const text = `chain keyed\ninput x: text\nmodel remote {\n  provider openai\n  base_url "https://models.example.com/v1"\n${'  model "m"\n'.repeat(1002)}  api_key_env "OPENAI_API_KEY"\n}\nstep a {\n  instruction "Say hello."\n}\n`;
  const client = await LspClient.start({ capabilities: fullCapabilities() });
  try {
    const uri = newUri('capped-key');
    await client.open(uri, text);
    const items = await client.pullDiagnostics(uri);
    assert.match(noteOf(items), /^3 more problems in this file are not shown \(2 warnings, 1 info\): .*, after every warning about where an API key would be sent\.$/);
    const key = items.find((d) => d.code === 'COI510');
    assert.match(typeof key?.message === 'string' ? key.message : '', /^\$OPENAI_API_KEY is OpenAI's key, and this profile would send it to models\.example\.com/);
    assert.equal(key?.range.start.line, 1007, 'on the api_key_env line, after the 1,001 warnings');
    // VS Code keeps 1,000 problems a file, warnings in the order given: the key warning must be among them.
    assert.equal(items.length, 1001, 'the 1,000 kept (the key warning among them) and the note');
  } finally {
    await client.stop();
  }
});
