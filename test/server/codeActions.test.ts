// Quick fixes over the protocol: for each diagnostic code with an obvious fix, break a
// clean chain, ask for code actions on the diagnostic, apply the edit, and check again:
// the diagnostic is gone and no new problem appeared.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver-protocol';
import { applyTextEdits, fixtureFile, LspClient, newUri } from './harness';

const BASE = fixtureFile('fixable.coi').text;

interface Case {
  readonly code: string;
  /** How to break the clean chain. */
  readonly broken: string;
  /** The title of the fix to apply. */
  readonly title: RegExp;
  /** What the text is after the fix (exact), or a pattern it matches. */
  readonly fixed: string | RegExp;
}

function breakBase(find: string, replaceWith: string): string {
  assert.ok(BASE.includes(find), `fixture has ${find}`);
  return BASE.replace(find, replaceWith);
}

const cases: Case[] = [
  { code: 'COI205', broken: breakBase('  output label', '  from summry\n  output label'), title: /Change to 'summary'/, fixed: breakBase('  output label', '  from summary\n  output label') },
  { code: 'COI408', broken: breakBase('label positive', 'label postive'), title: /Change to 'positive'/, fixed: BASE },
  { code: 'COI408', broken: breakBase('label positive', 'label mixed'), title: /Add mixed to the labels of step 'sentiment'/, fixed: breakBase('label [positive, negative]', 'label [positive, negative, mixed]').replace('label positive', 'label mixed') },
  // Expectations ignore surrounding space, so the label set gets the label trimmed (a padded label would never match an output).
  { code: 'COI408', broken: breakBase('label positive', 'label " mixed "'), title: /Add mixed to the labels of step 'sentiment'/, fixed: breakBase('label [positive, negative]', 'label [positive, negative, mixed]').replace('label positive', 'label " mixed "') },
  {
    code: 'COI506',
    broken: breakBase('input review', 'model api {\n  provider openai\n  base_url "http://127.0.0.1:8080/v1"\n  model "m"\n  api_key "sk-secret-123"\n}\n\ninput review'),
    title: /api_key_env/,
    fixed: breakBase('input review', 'model api {\n  provider openai\n  base_url "http://127.0.0.1:8080/v1"\n  model "m"\n  api_key_env "API_KEY"\n}\n\ninput review'),
  },
  { code: 'COI210', broken: breakBase('  instruction "Summarize the review."\n  output text\n', '  instruction "Summarize the review."\n'), title: /output text/, fixed: BASE },
  { code: 'COI207', broken: breakBase('input review: text\n', 'input review: text\ninput extra: text\n').replace('  given review = "Great."\n', '  given review = "Great."\n  given extra = "x"\n'), title: /Remove the unused input 'extra'/, fixed: BASE },
  { code: 'COI211', broken: breakBase('  output text', '  output txt'), title: /Change to 'text'/, fixed: BASE },
  { code: 'COI406', broken: breakBase('expect sentiment label positive', 'expect sentiment label positive\n  expect summary contians "x"'), title: /Change to 'contains'/, fixed: breakBase('expect sentiment label positive', 'expect sentiment label positive\n  expect summary contains "x"') },
  { code: 'COI504', broken: breakBase('  path "m.gguf"', '  path "m.gguf"\n  temprature 0'), title: /Change to 'temperature'/, fixed: breakBase('  path "m.gguf"', '  path "m.gguf"\n  temperature 0') },
  { code: 'COI507', broken: breakBase('  output text\n', '  output text\n  model locl\n'), title: /Change to 'local'/, fixed: breakBase('  output text\n', '  output text\n  model local\n') },
  { code: 'COI409', broken: breakBase('expect sentiment label positive', 'expect sentiment label positive\n  expect summary rouge_l >= 40 "Great."'), title: /Change to '0.4'/, fixed: breakBase('expect sentiment label positive', 'expect sentiment label positive\n  expect summary rouge_l >= 0.4 "Great."') },
  { code: 'COI201', broken: BASE.replace('chain fix_me\n', ''), title: /Add a chain declaration/, fixed: /^chain \w+\n/ },
  { code: 'COI202', broken: breakBase('chain fix_me\n', 'chain fix_me\nchain again\n'), title: /Remove this chain declaration/, fixed: BASE },
  { code: 'COI214', broken: breakBase('output label [positive, negative]', 'output label'), title: /Add a label set/, fixed: breakBase('output label [positive, negative]', 'output label [positive]') },
  { code: 'COI215', broken: breakBase('[positive, negative]', '[positive, negative, positive]'), title: /Remove the repeated entry/, fixed: BASE },
  { code: 'COI223', broken: breakBase('  output label', '  from summary, summary\n  output label'), title: /Remove the repeated entry/, fixed: breakBase('  output label', '  from summary\n  output label') },
  { code: 'COI220', broken: breakBase('  output text\n', '  output text\n  output text\n'), title: /Remove the repeated line/, fixed: BASE },
  { code: 'COI404', broken: breakBase('  given review = "Great."\n', '  given review = "Great."\n  given review = "Again."\n'), title: /Remove the repeated line/, fixed: BASE },
  { code: 'COI403', broken: BASE.replace('  given review = "Great."\n', ''), title: /Give a value for 'review'/, fixed: breakBase('  given review = "Great."\n', '  given review = "TODO"\n') },
  { code: 'COI209', broken: breakBase('  instruction "Summarize the review."\n', ''), title: /Add an instruction/, fixed: /step summary \{\n {2}output text\n {2}instruction "Describe what this step does\."\n\}/ },
  { code: 'COI401', broken: BASE.replace(/\n$/, '\n\ntest "t" {\n  given review = "Bad."\n  expect sentiment label negative\n}\n'), title: /Rename the test to "t 2"/, fixed: BASE.replace(/\n$/, '\n\ntest "t 2" {\n  given review = "Bad."\n  expect sentiment label negative\n}\n') },
  { code: 'COI222', broken: 'chain empty\ninput review: text\n', title: /Add a first step/, fixed: 'chain empty\ninput review: text\n\nstep first {\n  instruction "Describe what this step does."\n  output text\n}\n' },
  { code: 'COI505', broken: breakBase('  path "m.gguf"', '  path "m.gguf"\n  gpu quantum'), title: /Change to 'cuda'/, fixed: breakBase('  path "m.gguf"', '  path "m.gguf"\n  gpu cuda') },
  { code: 'COI106', broken: breakBase('  output text\n}\n', '  output text\n'), title: /Add the missing '\}'/, fixed: BASE },
  { code: 'COI109', broken: breakBase('input review: text\n', 'input review: text\n}\n'), title: /Remove the unmatched '\}'/, fixed: breakBase('input review: text\n', 'input review: text\n\n') },
  { code: 'COI110', broken: breakBase('[positive, negative]', '[positive, negative'), title: /Add the missing '\]'/, fixed: BASE },
  // A ` #` inside a string is not a comment: the `]` goes after the string, and before a real comment.
  { code: 'COI110', broken: breakBase('[positive, negative]', '[positive, "issue #12"'), title: /Add the missing '\]'/, fixed: breakBase('[positive, negative]', '[positive, "issue #12"]') },
  {
    code: 'COI110',
    broken: breakBase('  path "m.gguf"', `  path "m.gguf"\n  stop ['User: #', 'x' # two stops`),
    title: /Add the missing '\]'/,
    fixed: breakBase('  path "m.gguf"', `  path "m.gguf"\n  stop ['User: #', 'x'] # two stops`),
  },
  // A list spanning lines is closed after its last item.
  { code: 'COI110', broken: breakBase('[positive, negative]', '[positive,\n    negative'), title: /Add the missing '\]'/, fixed: breakBase('[positive, negative]', '[positive,\n    negative]') },
  // The values given fit the inputs' contracts (no COI412): the lowest number, the first label.
  {
    code: 'COI403',
    broken: breakBase('input review: text\n', 'input review: text\ninput stars: number min=1 max=5\ninput verdict: label ["keep it", drop]\n').replace('  instruction "Summarize the review."', '  from review, stars, verdict\n  instruction "Summarize the review."'),
    title: /Give a value for 'stars', 'verdict'/,
    fixed: breakBase('input review: text\n', 'input review: text\ninput stars: number min=1 max=5\ninput verdict: label ["keep it", drop]\n')
      .replace('  instruction "Summarize the review."', '  from review, stars, verdict\n  instruction "Summarize the review."')
      .replace('  given review = "Great."\n', '  given stars = 1\n  given verdict = "keep it"\n  given review = "Great."\n'),
  },
  // A json input with a JSON Schema gets an example of it (its required properties, each of its type), which the schema accepts.
  {
    code: 'COI403',
    broken: breakBase('input review: text\n', `input review: text\ninput person: json schema='{"type": "object", "required": ["name", "age"], "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}}}'\n`)
      .replace('  instruction "Summarize the review."', '  from review, person\n  instruction "Summarize the review."'),
    title: /Give a value for 'person'/,
    fixed: breakBase('input review: text\n', `input review: text\ninput person: json schema='{"type": "object", "required": ["name", "age"], "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}}}'\n`)
      .replace('  instruction "Summarize the review."', '  from review, person\n  instruction "Summarize the review."')
      .replace('  given review = "Great."\n', `  given person = '{"name": "TODO", "age": 18}'\n  given review = "Great."\n`),
  },
  // The new step's id is free (steps and inputs share one namespace).
  { code: 'COI222', broken: 'chain empty\ninput first: text\n', title: /Add a first step/, fixed: 'chain empty\ninput first: text\n\nstep first_2 {\n  instruction "Describe what this step does."\n  output text\n}\n' },
  // Inserted lines end with the file's line break (lone CR, CRLF); a byte order mark stays first.
  { code: 'COI222', broken: 'chain empty\rinput review: text\r', title: /Add a first step/, fixed: 'chain empty\rinput review: text\r\rstep first {\r  instruction "Describe what this step does."\r  output text\r}\r' },
  { code: 'COI201', broken: BASE.replace('chain fix_me\n', '').replace(/\n/g, '\r\n'), title: /Add a chain declaration/, fixed: `chain my_chain\r\n${BASE.replace('chain fix_me\n', '').replace(/\n/g, '\r\n')}` },
  { code: 'COI201', broken: `\uFEFF${BASE.replace('chain fix_me\n', '')}`, title: /Add a chain declaration/, fixed: `\uFEFFchain my_chain\n${BASE.replace('chain fix_me\n', '')}` },
  { code: 'COI106', broken: breakBase('  output text\n}\n', '  output text\n').replace(/\n/g, '\r\n'), title: /Add the missing '\}'/, fixed: BASE.replace(/\n/g, '\r\n') },
];

void describe('quick fixes', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start();
  });
  after(() => client.stop());

  for (const [i, c] of cases.entries()) {
    void test(`${c.code}: ${c.title.source} (case ${i + 1})`, async () => {
      const uri = newUri(`fix-${c.code}`);
      await client.open(uri, c.broken);
      const before = await client.pullDiagnostics(uri);
      const target = before.find((d) => d.code === c.code);
      assert.ok(target, `expected ${c.code} in ${JSON.stringify(before.map((d) => `${String(d.code)} ${d.message}`))}`);
      const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: target.range,
        context: { diagnostics: [target], only: ['quickfix'] },
      });
      const action = actions.find((a) => c.title.test(a.title));
      assert.ok(action, `no fix matching ${String(c.title)} among ${JSON.stringify(actions.map((a) => a.title))}`);
      assert.equal(action.kind, 'quickfix');
      assert.deepEqual(action.diagnostics, [target]);
      const fixed = applyTextEdits(c.broken, (action.edit?.changes?.[uri] ?? []) as TextEdit[]);
      if (typeof c.fixed === 'string') assert.equal(fixed, c.fixed);
      else assert.match(fixed, c.fixed);

      const checkUri = newUri(`fixed-${c.code}`);
      await client.open(checkUri, fixed);
      const after = await client.pullDiagnostics(checkUri);
      const key = (d: Diagnostic): string => `${String(d.code)}`;
      assert.ok(after.filter((d) => d.code === c.code).length < before.filter((d) => d.code === c.code).length, `${c.code} is fixed: ${JSON.stringify(after)}`);
      const beforeCodes = new Set(before.map(key));
      const added = after.filter((d) => !beforeCodes.has(key(d)) && (d.severity ?? 1) <= 2);
      assert.deepEqual(added, [], 'the fix adds no new error or warning');
    });
  }

  void test('fixes come from the current text even when the client sends no diagnostics or outdated ones', async () => {
    // An editor's marker list can lag behind the diagnostics it was sent (VS Code in a
    // browser does): the lightbulb must still offer the fix under the cursor.
    const uri = newUri('lagging-markers');
    const broken = breakBase('  output label', '  from summry\n  output label');
    await client.open(uri, broken);
    const [unknown] = (await client.pullDiagnostics(uri)).filter((d) => d.code === 'COI205');
    assert.ok(unknown);
    const cursor = { start: unknown.range.start, end: unknown.range.start };
    const none = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: cursor, context: { diagnostics: [] } });
    assert.deepEqual(none.map((a) => a.title), ["Change to 'summary'"]);
    assert.equal(none[0]?.diagnostics?.[0]?.code, 'COI205');

    // A diagnostic the text no longer has (fixed since the client's markers were made) gets no fix.
    const fixedText = breakBase('  output label', '  from summary\n  output label');
    await client.change(uri, [{ text: fixedText }]);
    const stale = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: unknown.range, context: { diagnostics: [unknown] } });
    assert.deepEqual(stale, []);
  });

  void test('each diagnostic links its code to its section of docs/format.md', async () => {
    const uri = newUri('codelink');
    await client.open(uri, breakBase('  output text', '  output txt'));
    const diagnostics = await client.pullDiagnostics(uri);
    const unknown = diagnostics.find((d) => d.code === 'COI211');
    assert.ok(unknown, JSON.stringify(diagnostics));
    const href = unknown.codeDescription?.href ?? '';
    const [file = '', anchor] = href.split('#');
    assert.ok(existsSync(fileURLToPath(file)), href);
    assert.equal(anchor, 'diagnostics-structure-coi2xx');
    assert.match(readFileSync(fileURLToPath(file), 'utf8'), /^## Diagnostics: structure \(COI2xx\)$/m);
  });

  void test('no quick fix is offered for a diagnostic without an obvious one, and none outside quickfix requests', async () => {
    const uri = newUri('nofix');
    const text = BASE.replace('step summary {', 'step summary {\n  from sentiment');
    await client.open(uri, text);
    const diagnostics = await client.pullDiagnostics(uri);
    const later = diagnostics.find((d) => d.code === 'COI206');
    assert.ok(later, JSON.stringify(diagnostics));
    const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: later.range, context: { diagnostics: [later] } });
    assert.deepEqual(actions, []);
    const refactors = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: later.range,
      context: { diagnostics: diagnostics, only: ['refactor'] },
    });
    assert.deepEqual(refactors, []);
  });
});
