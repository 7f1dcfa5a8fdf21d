// The `api_key_header` profile key through the real language server: offered with its
// description in an openai profile, explained on hover, and its bad values diagnosed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompletionList, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { fixture, LspClient, newUri } from './harness';

/** A diagnostic's message as text. */
const words = (message: string | MarkupContent | undefined): string => (typeof message === 'string' ? message : (message?.value ?? ''));

const profile = (line: string): string => `chain c\n\nmodel azure {\n  provider openai\n  base_url "https://my-team.openai.azure.com/openai/deployments/gpt4o?api-version=2024-06-01"\n  model "gpt-4o"\n  ${line}\n}\n\ninput x: text\n\nstep a {\n  instruction "Say hello."\n}\n`;

void describe('api_key_header in a model profile (language server)', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start();
  });
  after(() => client.stop());

  void test('completion in an openai profile offers it with its description; hover explains it', async () => {
    const { text, at } = fixture(profile('api_key_env "AZURE_KEY"\n  ⟦member⟧'));
    const uri = newUri('header-completion');
    const doc = await client.open(uri, text);
    const list = await client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: doc.positionAt(at['member']!) });
    const item = list.items.find((i) => i.label === 'api_key_header');
    assert.ok(item, `offered: ${list.items.map((i) => i.label).join(', ')}`);
    const documentation = (item.documentation as MarkupContent | undefined)?.value ?? '';
    assert.match(documentation, /the HTTP header the API key goes in/);
    assert.match(documentation, /api-key.*Azure OpenAI/);

    const written = profile('api_key_header "api-key"');
    const hoverUri = newUri('header-hover');
    const hoverDoc = await client.open(hoverUri, written);
    const hover = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: hoverUri }, position: hoverDoc.positionAt(written.indexOf('api_key_header') + 3) });
    assert.match((hover?.contents as MarkupContent | undefined)?.value ?? '', /the HTTP header the API key goes in/);
    const problems = (await client.pullDiagnostics(hoverUri)).filter((d) => /^COI5/.test(String(d.code)));
    assert.deepEqual(problems, [], 'a valid header is no problem');
  });

  void test('a value that is not a header name, a key, a misspelt key and a local profile: clear diagnostics', async () => {
    const cases: [string, string, RegExp][] = [
      ['api_key_header "api key"', 'COI505', /'api_key_header' must be an HTTP header name \(such as api-key, x-api-key or Authorization\), not 'api key'\./],
      ['api_key_header "sk-proj-abcdefghijklmnop"', 'COI505', /'api_key_header' is the NAME of the header the key goes in .*not a key \('sk-p…'\)/],
      ['api_key_header "Host"', 'COI505', /'api_key_header' cannot be 'Host': that header carries something else/],
      ['api_key_header 3', 'COI505', /'api_key_header' must be a string/],
      ['api_key_headr "api-key"', 'COI504', /Unknown key 'api_key_headr' in model 'azure'\. Did you mean 'api_key_header'\?/],
    ];
    for (const [line, code, message] of cases) {
      const uri = newUri('header-diagnostics');
      await client.open(uri, profile(line));
      const diagnostics = await client.pullDiagnostics(uri);
      const found = diagnostics.find((d) => d.code === code);
      assert.ok(found, `${line}: ${JSON.stringify(diagnostics.map((d) => [d.code, d.message]))}`);
      assert.match(words(found.message), message);
      assert.doesNotMatch(words(found.message), /abcdefghijklmnop/, 'a key written there is not quoted back');
    }
    const uri = newUri('header-local');
    await client.open(uri, 'chain c\n\nmodel m {\n  provider local\n  path "m.gguf"\n  api_key_header "api-key"\n}\n\ninput x: text\n\nstep a {\n  instruction "Say hello."\n}\n');
    const local = (await client.pullDiagnostics(uri)).find((d) => d.code === 'COI508');
    assert.match(words(local?.message), /'api_key_header' is a setting of provider 'openai'; provider 'local' ignores it\./);
  });
});
