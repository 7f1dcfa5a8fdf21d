// The Markdown the language server produces (hovers, completion documentation) for a `.coi`
// file from a cloned repository: what the file says is shown as written, never as Markdown.
// VS Code hovers load remote images, so a live `![](https://…)` in an instruction would
// fetch the author's URL when someone hovers a step (Restricted Mode or not).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, CompletionList, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { LspClient, newUri } from './harness';

/** Markdown split at its fenced code blocks: the lines outside them, and each block's contents. */
function splitFences(markdown: string): { outside: string[]; blocks: string[] } {
  const outside: string[] = [];
  const blocks: string[] = [];
  let fence: string | undefined;
  let block: string[] = [];
  for (const line of markdown.split('\n')) {
    const run = /^ {0,3}(`{3,})/.exec(line)?.[1];
    if (fence === undefined && run !== undefined) {
      fence = run;
      block = [];
    } else if (fence !== undefined && run !== undefined && run.length >= fence.length && /^ {0,3}`+\s*$/.test(line)) {
      blocks.push(block.join('\n'));
      fence = undefined;
    } else if (fence !== undefined) block.push(line);
    else outside.push(line);
  }
  assert.equal(fence, undefined, `an unclosed code fence in:\n${markdown}`);
  return { outside, blocks };
}

/** The parts of Markdown that are rendered as Markdown: fenced code blocks, code spans and backslash escapes taken out. */
function liveMarkdown(markdown: string): string {
  // Code spans: a backtick run up to the next run of the same length.
  const text = splitFences(markdown).outside.join('\n').replace(/(`+)[\s\S]*?(?<!`)\1(?!`)/g, '');
  return text.replace(/\\[\s\S]/g, '');
}

/** The contents of each fenced code block, as the reader sees them. */
const codeBlocks = (markdown: string): string[] => splitFences(markdown).blocks;

/** No image, link, HTML or address (GFM links bare ones) the file wrote is alive in `markdown`. */
function assertNothingLive(markdown: string): void {
  const live = liveMarkdown(markdown);
  assert.doesNotMatch(live, /[[\]<>]/, `link, image or HTML syntax is live in:\n${markdown}`);
  assert.doesNotMatch(live, /:\/\/|\bwww\.|@/, `an address would be linked in:\n${markdown}`);
}

const INSTRUCTION = [
  'Summarize the review in two sentences.',
  '![](https://evil.example/pixel.png?who=you)',
  '[Trust this workspace](https://evil.example/phish)',
  '**Composability:** ✓ its input composes with this step',
  '<img src="https://evil.example/html.png">',
  '```',
  'Keep `code` as it is.',
].join('\n');

const FILE = [
  'chain untrusted',
  '',
  'model local {',
  '  provider local',
  '  path "```\\n![](https://evil.example/path.png)"',
  '}',
  '',
  'input review: text',
  '',
  'step summary {',
  '  instruction """',
  ...INSTRUCTION.split('\n').map((l) => `    ${l}`),
  '  """',
  '  model local',
  '  output label ["`a`", "[b](https://evil.example/label)"]',
  '}',
  '',
  'step next {',
  '  instruction "Explain the label."',
  '  from summary',
  '  output text',
  '}',
  '',
].join('\n');

void describe('Markdown from an untrusted .coi file', () => {
  let client: LspClient;
  let uri: string;
  let doc: TextDocument;
  const hover = async (offset: number): Promise<string> => {
    const result = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: doc.positionAt(offset) });
    assert.ok(result, `a hover at ${offset}`);
    return (result.contents as MarkupContent).value;
  };

  before(async () => {
    client = await LspClient.start();
    uri = newUri('untrusted');
    doc = await client.open(uri, FILE);
  });
  after(() => client.stop());

  void test("a step's hover shows its instruction as written, in a code block: no image loads, no link or line of its own forms", async () => {
    for (const offset of [FILE.indexOf('step summary') + 6, FILE.indexOf('from summary') + 6]) {
      const markdown = await hover(offset);
      assertNothingLive(markdown);
      // The instruction's own "**Composability:** ✓" line is text, not a field of the hover.
      assert.equal(liveMarkdown(markdown).match(/\*\*Composability:\*\*/g)?.length ?? 0, 1, markdown);
      // Still readable: every line of the instruction, exactly as the file says it.
      assert.ok(codeBlocks(markdown).includes(INSTRUCTION), `the instruction as written, in a code block, in:\n${markdown}`);
      assert.match(markdown, /\*\*step `summary`\*\* — step 1 of 2/);
    }
  });

  void test('labels, profile values and names quoted in hovers are code, not Markdown', async () => {
    const next = await hover(FILE.indexOf('step next') + 6);
    assertNothingLive(next);
    // The label set of the step it reads, whole, in one code span.
    assert.ok(next.includes('``label [`a`, [b](https://evil.example/label)]``'), next);
    const profile = await hover(FILE.indexOf('model local\n  output') + 7);
    assertNothingLive(profile);
    assert.ok(
      codeBlocks(profile).some((b) => b.includes('path "```\\n![](https://evil.example/path.png)"')),
      profile,
    );
  });

  void test("completion documentation of a step shows its instruction as written", async () => {
    const offset = FILE.indexOf('from summary') + 'from '.length;
    const list = await client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: doc.positionAt(offset) });
    const item = list.items.find((i: CompletionItem) => i.label === 'summary');
    assert.ok(item, 'summary is offered');
    const markdown = (item.documentation as MarkupContent).value;
    assertNothingLive(markdown);
    assert.deepEqual(codeBlocks(markdown), [INSTRUCTION]);
  });
});
