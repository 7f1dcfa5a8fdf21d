/**
 * The lexicon on real instructions: most come from the CoI data
 * (`coi2_test.json`, `coi_2.json`), the rest are the phrasings the lexicon
 * promises to understand (docs/composability.md).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { analyzeInstruction } from '../../core/composability';
import { CATEGORIES, CUE_RULES, FORMAT_RULES, TASK_CATEGORIES, VERB_RULES } from '../../core/lexicon/lexicon';
import { repoPath } from '../helpers/paths';

type Row = readonly [instruction: string, category: string, produces: string, consumes?: string];

const CASES: readonly Row[] = [
  // From the CoI2 data.
  ['Summarize the article in one sentence.', 'summarization', 'sentence', 'passage'],
  ['Write a compressed version of the given text in one sentence.', 'summarization', 'sentence'],
  ['Generate a summary of a set of reviews from Amazon and Yelp. The summary should reflect the common opinions.', 'summarization', 'passage'],
  ['Translate the poem to Panjabi without omitting or adding any information.', 'translation', 'passage', 'passage'],
  ['Determine if the last sentence of the story is ironic or not based on the given definition of irony.', 'classification', 'boolean'],
  ['Determine if the comment is toxic or not.', 'classification', 'boolean'],
  ['Classify the given sentence into one of the following categories: Background, Purpose, Method, or Finding.', 'classification', 'label', 'item'],
  ['Identify the speaker as either "User" or "Agent" based on the given next message.', 'classification', 'label'],
  ['Identify the language of the given article.', 'classification', 'label'],
  ['Determine the topic of the compressed text.', 'classification', 'label'],
  ["Determine if any of the given options is a proper keyword for the abstract. (Answer 'Yes' or 'No')", 'classification', 'boolean'],
  ['Extract RDF triplets from the given sentence.', 'extraction', 'list', 'passage'],
  ['Identify and list all pronouns present in the sentence, listing them in the order of their first appearance.', 'extraction', 'list'],
  ['Identify the word with a typo in the given sentence.', 'extraction', 'sentence'],
  ['Identify the main topic word in the simplified sentence.', 'extraction', 'sentence'],
  ['Given a table and a question, answer the question based on the information in the table.', 'question_answering', 'sentence'],
  ['Answer the astronomy question by selecting the correct option (A, B, C, or D).', 'question_answering', 'label'],
  ['Generate a poem related to the given title, written in a simple and childlike manner.', 'generation', 'passage', 'any'],
  ['Generate a title for a research paper based on the given paragraph.', 'generation', 'sentence', 'any'],
  ['Generate a question based on a given fact.', 'generation', 'sentence'],
  ['Paraphrase the given sentence while maintaining its original meaning.', 'paraphrase', 'passage', 'passage'],
  ['Convert the positive review to a negative review while keeping the context intact.', 'rewriting', 'passage', 'passage'],
  ['Elaborate the given sentence by providing more details, using specific language, and adding additional information.', 'rewriting', 'passage'],
  ['Simplify each sentence to make it easier for non-native English speakers to understand.', 'simplification', 'passage', 'passage'],
  ['Correct the grammar errors in the given sentence.', 'grammar_correction', 'passage', 'passage'],
  ['Correct the given English sentence.', 'grammar_correction', 'passage'],
  ['Identify the part-of-speech tag of a word in a sentence enclosed in curly braces.', 'tagging', 'label'],
  ['Provide an implausible part-of-speech tag for a given word in a question.', 'tagging', 'label'],
  ['Write an SQL statement based on an English description of what the SQL statement does.', 'code', 'code'],
  ['Fix the SQL query based on feedback.', 'code', 'code', 'code'],
  ['Write a short description in natural language for given triples that show the relationship between the elements.', 'data_to_text', 'passage', 'any'],
  ['Count the number of nouns or verbs in the summary.', 'counting', 'number'],
  ['Arrange the given sentences in the correct order to form a coherent story.', 'sorting', 'passage', 'list'],
  ['Follow a sequence of instructions and perform basic logic and conditionals.', 'reasoning', 'sentence', 'any'],
  ['Break down a question into a list of steps required to answer it.', 'reasoning', 'list'],
  ['Choose the simpler piece of text between two given texts.', 'selection', 'sentence'],
  ["Identify the response that follows the \"Yes, and\" rule in the given dialogue exchange. Choose 'Response 1' if it does.", 'question_answering', 'label'],
  ['Determine what the pronoun refers to in the given justification and classify the answers as A, B, or Neither.', 'question_answering', 'sentence'],
  // Phrasings the lexicon promises.
  ['Translate the summary into French.', 'translation', 'passage'],
  ['Is the tweet sarcastic or not?', 'classification', 'boolean'],
  ['Identify whether the claim is supported by the passage.', 'classification', 'boolean'],
  ['What is the sentiment of the review?', 'classification', 'label'],
  ['How many people are mentioned in the text?', 'counting', 'number'],
  ['Extract the people mentioned in the text as a JSON object.', 'extraction', 'json'],
  ['List the main points of the article as a bulleted list.', 'extraction', 'list'],
  ['Write a Python function that parses the dates.', 'code', 'code'],
  ['Explain what the given SQL statement does.', 'code', 'passage', 'code'],
  ['Sort the names alphabetically.', 'sorting', 'list', 'list'],
  ['Tag every named entity in the sentence.', 'tagging', 'list'],
  ['You are an editor. Your task is to proofread the letter.', 'grammar_correction', 'passage'],
  ['Please rewrite the paragraph in plain language for a child.', 'simplification', 'passage'],
  ['Rate the fluency of the translation on a scale from 1 to 5.', 'classification', 'number'],
  ['Hello there.', 'unknown', 'passage', 'any'],
];

for (const [instruction, category, produces, consumes] of CASES) {
  void test(`lexicon: ${instruction.slice(0, 70)}`, () => {
    const analysis = analyzeInstruction(instruction);
    assert.equal(analysis.category, category, `rule ${analysis.rule ?? '-'}`);
    assert.equal(analysis.produces, produces, `rule ${analysis.rule ?? '-'}, format ${analysis.formatRule ?? '-'}`);
    if (consumes !== undefined) assert.equal(analysis.consumes, consumes);
  });
}

void test('translation targets and input languages are read from the wording', () => {
  const cases: readonly [string, string | undefined, string | undefined][] = [
    ['Translate the summary into French.', 'fr', undefined],
    ['Translate the text to Spanish.', 'es', undefined],
    ['Translate the English text into German.', 'de', 'en'],
    ['Translate from Italian to Portuguese.', 'pt', 'it'],
    ['Translate the provided explanation and answer to Catalan while preserving names.', 'ca', undefined],
    ['Correct the grammar of the English text.', undefined, 'en'],
    ['Summarize the article in Japanese.', 'ja', undefined],
    ['Simplify each sentence to make it easier for non-native English speakers to understand.', undefined, undefined],
    ['Write an SQL statement based on an English description of what it does.', undefined, undefined],
  ];
  for (const [instruction, output, input] of cases) {
    const analysis = analyzeInstruction(instruction);
    assert.equal(analysis.outputLanguage, output, instruction);
    assert.equal(analysis.inputLanguage, input, instruction);
  }
});

void test('multi-line instructions: lead-in sentences are skipped, the first imperative decides', () => {
  const analysis = analyzeInstruction('You are a careful assistant.\n\nGiven the article below,\n  summarize it in two sentences.\nDo not add opinions.');
  assert.equal(analysis.category, 'summarization');
  assert.equal(analysis.rule, 'summarization.summarize');
});

void test('every rule names a known category and a real example that it matches itself', () => {
  for (const rule of VERB_RULES) {
    assert.ok((TASK_CATEGORIES as readonly string[]).includes(rule.category), rule.id);
    const analysis = analyzeInstruction(rule.example);
    assert.equal(analysis.rule, rule.id, `${rule.id}: its example "${rule.example}" is decided by ${analysis.rule ?? 'no rule'}`);
  }
  for (const rule of [...CUE_RULES, ...FORMAT_RULES]) assert.ok(rule.example.length > 0, rule.id);
  for (const category of TASK_CATEGORIES) assert.ok(CATEGORIES[category].purpose.length > 0);
});

void test('rule ids are unique', () => {
  const ids = [...VERB_RULES, ...CUE_RULES, ...FORMAT_RULES].map((rule) => rule.id);
  assert.equal(new Set(ids).size, ids.length);
});

void test('docs/composability.md documents every rule of the lexicon', () => {
  const doc = readFileSync(repoPath('docs', 'composability.md'), 'utf8');
  const missing = [...VERB_RULES, ...CUE_RULES, ...FORMAT_RULES].map((rule) => rule.id).filter((id) => !doc.includes(`\`${id}\``));
  assert.deepEqual(missing, []);
  const categories = [...TASK_CATEGORIES, 'unknown'].filter((category) => !doc.includes(`| \`${category}\` |`));
  assert.deepEqual(categories, []);
});

void test('a classification that must explain itself produces text, not a bare label', () => {
  const explained = analyzeInstruction('Determine whether the claim is supported by the passage, and explain why.');
  assert.equal(explained.category, 'classification');
  assert.equal(explained.produces, 'passage');
  assert.equal(analyzeInstruction('Determine whether the claim is supported by the passage.').produces, 'boolean');
});
