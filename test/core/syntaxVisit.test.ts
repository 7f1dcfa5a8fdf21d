import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../core/syntax/parser';
import {
  allInputs,
  allModels,
  allSteps,
  allTests,
  childrenOf,
  declarationAt,
  findInput,
  findModel,
  findOption,
  findStep,
  innermostAt,
  pathAt,
  testName,
  textOf,
  walk,
  type SyntaxNode,
} from '../../core/syntax/visit';

const text = [
  'chain c',
  'model api {',
  '  provider openai',
  '}',
  'input article: text lang=en',
  'step summary {',
  '  instruction "Summarize."',
  '  from article, intro',
  '  output label [yes, no] strict=true',
  '}',
  'test "t one" {',
  '  given article = "x"',
  '  expect summary not one_of [yes] mode=exact',
  '}',
].join('\n');
const { file } = parse(text);

function kindsAt(offset: number): string {
  return pathAt(file, offset)
    .map((n) => n.kind)
    .join('>');
}

void test('pathAt returns the path of nodes containing the offset, outermost first', () => {
  assert.equal(kindsAt(text.indexOf('intro') + 2), 'file>step>from>identifier');
  assert.equal(kindsAt(text.indexOf('strict=true') + 8), 'file>step>output>contract>option>boolean');
  assert.equal(kindsAt(text.indexOf('[yes, no]') + 1), 'file>step>output>contract>list>word');
  assert.equal(kindsAt(text.indexOf('mode=exact') + 1), 'file>test>expect>option>identifier');
  assert.equal(kindsAt(text.indexOf('"x"')), 'file>test>given>string');
  assert.equal(kindsAt(text.indexOf('provider')), 'file>model>property>identifier');
});

void test('a cursor right after a word still finds the word; between declarations only the file', () => {
  const end = text.indexOf('article,') + 'article'.length;
  const node = innermostAt(file, end);
  assert.equal(node.kind === 'identifier' ? node.name : node.kind, 'article');
  assert.equal(kindsAt(text.indexOf('chain c') + 7 + 1), 'file>model');
  assert.equal(declarationAt(file, text.indexOf('"t one"'))?.kind, 'test');
  const blank = parse('chain a\n\n\nchain b');
  assert.equal(pathAt(blank.file, 8).length, 1);
});

void test('childrenOf lists children in source order and walk visits every node once', () => {
  const step = findStep(file, 'summary');
  assert.ok(step);
  assert.deepEqual(
    childrenOf(step).map((n) => n.kind),
    ['identifier', 'instruction', 'from', 'output'],
  );
  const seen: string[] = [];
  walk(file, (node: SyntaxNode) => {
    if (node.kind === 'identifier') seen.push(node.name);
  });
  assert.deepEqual(seen, ['c', 'api', 'provider', 'article', 'text', 'lang', 'summary', 'article', 'intro', 'label', 'strict', 'article', 'summary', 'one_of', 'mode']);
  const outsideSteps: string[] = [];
  walk(file, (node) => {
    if (node.kind === 'identifier') outsideSteps.push(node.name);
    return node.kind !== 'step'; // false skips the subtree
  });
  assert.ok(!outsideSteps.includes('intro') && outsideSteps.includes('mode'));
});

void test('typed accessors find declarations by kind and name', () => {
  assert.deepEqual(
    allSteps(file).map((s) => s.id?.name),
    ['summary'],
  );
  assert.deepEqual(
    allInputs(file).map((i) => i.name?.name),
    ['article'],
  );
  assert.deepEqual(
    allModels(file).map((m) => m.name?.name),
    ['api'],
  );
  assert.deepEqual(allTests(file).map(testName), ['t one']);
  assert.equal(findInput(file, 'article')?.contract?.contractKind, 'text');
  assert.equal(findModel(file, 'api')?.properties.length, 1);
  assert.equal(findStep(file, 'missing'), undefined);
  const contract = findStep(file, 'summary')?.output?.contract;
  assert.equal(findOption(contract?.options ?? [], 'strict')?.value?.kind, 'boolean');
  assert.equal(textOf(contract?.labels?.items[0]), 'yes');
  assert.equal(textOf(undefined), undefined);
});
