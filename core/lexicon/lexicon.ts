/**
 * The composability lexicon: an explicit, ordered list of rules that map the
 * wording of an instruction to a task category, and for each category what it
 * consumes and what it produces. docs/composability.md documents every rule.
 *
 * How the rules are applied (core/composability/infer.ts):
 *  1. The instruction is lower-cased and split into clauses (sentences); each
 *     clause loses lead-ins such as "Given a table and a question," or
 *     "Your task is to".
 *  2. Clause by clause, the **verb rules** are tried in the order of this file,
 *     but only those listed under the clause's first word. The first match
 *     decides the category, what is consumed and what is produced.
 *  3. If no clause matched, the **cue rules** are tried on the whole text.
 *  4. **Format rules** (anywhere in the text: "Answer 'Yes' or 'No'", "as a
 *     JSON object", "in one sentence") then refine what is produced.
 *  5. Languages: "into French" / "to Spanish" set the output language of a
 *     translation (or "respond in German" of any step); "the English text" /
 *     "from English" name the language the step expects to read.
 */
import { LANGUAGE_NAME_PATTERN } from './languages';

export const TASK_CATEGORIES = [
  'summarization',
  'translation',
  'classification',
  'extraction',
  'question_answering',
  'generation',
  'paraphrase',
  'rewriting',
  'simplification',
  'grammar_correction',
  'tagging',
  'code',
  'data_to_text',
  'counting',
  'sorting',
  'reasoning',
  'selection',
] as const;
export type KnownTaskCategory = (typeof TASK_CATEGORIES)[number];
/** `unknown` when no rule matched: such a step consumes anything and produces a passage. */
export type TaskCategory = KnownTaskCategory | 'unknown';

/** What a step needs to read. `item`: one short piece of text (a sentence, a word, one record). */
export const INPUT_KINDS = ['passage', 'item', 'label', 'list', 'json', 'code', 'any'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** What a step makes. `sentence`: a short free text (a sentence, a title, a word, a span). */
export const OUTPUT_KINDS = ['passage', 'sentence', 'label', 'boolean', 'number', 'list', 'json', 'code'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export interface CategoryInfo {
  readonly description: string;
  readonly consumes: InputKind;
  readonly produces: OutputKind;
  /** How a message completes "needs a passage ..." (e.g. "to summarize"). */
  readonly purpose: string;
}

export const CATEGORIES: Readonly<Record<TaskCategory, CategoryInfo>> = {
  summarization: { description: 'shortens a text', consumes: 'passage', produces: 'passage', purpose: 'to summarize' },
  translation: { description: 'translates a text', consumes: 'passage', produces: 'passage', purpose: 'to translate' },
  classification: {
    description: 'assigns a label (sentiment, topic, yes/no, irony, toxicity, ...)',
    consumes: 'item',
    produces: 'label',
    purpose: 'to classify',
  },
  extraction: { description: 'pulls spans, entities or facts out of a text', consumes: 'passage', produces: 'list', purpose: 'to extract from' },
  question_answering: { description: 'answers a question', consumes: 'any', produces: 'sentence', purpose: 'to answer from' },
  generation: { description: 'writes new text from a prompt or topic', consumes: 'any', produces: 'passage', purpose: 'to write from' },
  paraphrase: { description: 'says the same thing in other words', consumes: 'passage', produces: 'passage', purpose: 'to paraphrase' },
  rewriting: {
    description: 'rewrites a text (style transfer, elaboration, editing)',
    consumes: 'passage',
    produces: 'passage',
    purpose: 'to rewrite',
  },
  simplification: { description: 'makes a text simpler', consumes: 'passage', produces: 'passage', purpose: 'to simplify' },
  grammar_correction: { description: 'corrects grammar and spelling', consumes: 'passage', produces: 'passage', purpose: 'to correct' },
  tagging: { description: 'tags words (part of speech, named entities)', consumes: 'item', produces: 'list', purpose: 'to tag' },
  code: { description: 'writes, fixes or explains code', consumes: 'any', produces: 'code', purpose: 'to work on' },
  data_to_text: { description: 'verbalizes structured data (tables, triples, JSON)', consumes: 'any', produces: 'passage', purpose: 'to describe' },
  counting: { description: 'counts or computes a number', consumes: 'any', produces: 'number', purpose: 'to count in' },
  sorting: { description: 'sorts, orders or lists items', consumes: 'list', produces: 'list', purpose: 'to sort' },
  reasoning: { description: 'follows steps of logic and states a result', consumes: 'any', produces: 'sentence', purpose: 'to reason about' },
  selection: { description: 'chooses one of several given options', consumes: 'any', produces: 'sentence', purpose: 'to choose from' },
  unknown: { description: 'no rule matched', consumes: 'any', produces: 'passage', purpose: 'to work on' },
};

// ---------------------------------------------------------------------------
// Verb rules
// ---------------------------------------------------------------------------

export interface VerbRule {
  /** Stable id, shown in hovers and documented in docs/composability.md. */
  readonly id: string;
  readonly category: KnownTaskCategory;
  /** First words (lower case) of the clauses this rule is tried on. */
  readonly verbs: readonly string[];
  /** Tested on the normalized clause (lower case, single spaces, lead-ins removed). */
  readonly pattern: RegExp;
  /** Overrides the category's default. */
  readonly consumes?: InputKind;
  /** Overrides the category's default; a function refines it from the clause. */
  readonly produces?: OutputKind | ((clause: string, match: RegExpExecArray) => OutputKind);
  /** A real instruction this rule is meant for. */
  readonly example: string;
}

const WRITE_VERBS = ['write', 'generate', 'create', 'produce', 'compose', 'draft', 'construct', 'build', 'develop', 'implement', 'code', 'make', 'provide', 'give'];

/** Words that make an object noun plural for extraction ("the words" vs "the word"). */
function pluralObject(_clause: string, match: RegExpExecArray): OutputKind {
  const noun = match[1] ?? '';
  return /s$/.test(noun) && !/(ss|us|is)$/.test(noun) ? 'list' : 'sentence';
}

const SHORT_TEXT_NOUNS =
  'title|headline|word|keyword|phrase|name|question|claim|sentence|answer|label|slogan|caption|topic|hashtag|fact|event|query|command|response|reply|message|utterance|tweet|line|statement|hypothesis|premise|term|option|pun|joke|riddle|analogy|completion|ending|beginning|continuation|consequence|preposition|adjective|verb|noun|pronoun|antonym|synonym';

const SHORT_TEXT_OBJECT = new RegExp(
  `^\\w+ (?:up with |out |in |down )?(?:an? |the |one |another |a new |an alternative |some )?(?:[\\w'-]+ ){0,3}?(?:${SHORT_TEXT_NOUNS})\\b(?! (?:for|of) (?:a |an |the )?(?:story|poem|essay))`,
);
const LIST_OBJECT = /\b(?:a list of|lists of|\d+ (?:ideas|items|examples|questions|words|names|sentences|keywords|titles|options)|bullet(?:ed)? (?:points|list)|several|multiple)\b/;

/** Generation: a short text (a title, a question) or a list, otherwise a passage. */
function generatedShape(clause: string): OutputKind {
  if (LIST_OBJECT.test(clause)) return 'list';
  if (SHORT_TEXT_OBJECT.test(clause)) return 'sentence';
  return 'passage';
}

/** Part-of-speech / entity tagging of one word gives a label, of a text a list. */
function taggingShape(clause: string): OutputKind {
  return /\b(?:of|for|to) (?:a|an|the|one|each|this|that)? ?(?:given |specific |single |target )?\{?(?:word|token)\}?(?!s)/.test(clause) ? 'label' : 'list';
}

/** A chosen option: a label when the options are letters, numbers or named responses. */
function selectionShape(clause: string): OutputKind {
  return /\((?:a|1)\s*,\s*(?:b|2)\b|\b(?:option|response|answer|choice|sentence) ['"]?(?:[a-e]|[1-5])['"]?\b|\bletter\b|\bindex\b/.test(clause) ? 'label' : 'sentence';
}

/** Any language name of core/composability/languages.ts, captured. */
const LANG = `(${LANGUAGE_NAME_PATTERN})`;

const CODE_NOUNS =
  'code|function|program|script|sql|query|regex|regular expression|snippet|class|method|algorithm|shell command|bash command|unit tests?|html|css|javascript|python|typescript|java|c\\+\\+';
const NOT_PREPOSITION = '(?!about |of |for |on |from |based |describing |explaining |that |to |with |in |given )';

export const VERB_RULES: readonly VerbRule[] = [
  // --- code (before translation, generation and correction) -------------------------------
  {
    id: 'code.translate',
    category: 'code',
    verbs: ['convert', 'translate', 'port', 'rewrite', 'transpile'],
    pattern: new RegExp(`^\\w+ (?:this |the |a |an |given |following )?(?:[\\w+#-]+ ){0,2}?(?:${CODE_NOUNS})\\b.* (?:to|into|in) \\w+`),
    consumes: 'code',
    produces: 'code',
    example: 'Translate the Python function into JavaScript.',
  },
  {
    id: 'code.fix',
    category: 'code',
    verbs: ['fix', 'debug', 'correct', 'refactor', 'optimize', 'optimise', 'repair', 'complete', 'improve', 'modify', 'replace', 'update'],
    pattern: new RegExp(`^\\w+ (?:an? |the |this |given |following )?(?:[\\w+#-]+ ){0,2}?(?:${CODE_NOUNS})\\b`),
    consumes: 'code',
    produces: 'code',
    example: 'Fix the SQL query based on feedback.',
  },
  {
    id: 'code.explain',
    category: 'code',
    verbs: ['explain', 'describe', 'document', 'comment', 'summarize', 'summarise', 'elaborate', 'simplify'],
    pattern: new RegExp(`^\\w+ (?:what |how )?(?:an? |the |this |given |following )?(?:[\\w+#-]+ ){0,2}?(?:${CODE_NOUNS})\\b`),
    consumes: 'code',
    produces: 'passage',
    example: 'Explain what the given SQL statement does.',
  },
  {
    id: 'code.write',
    category: 'code',
    verbs: WRITE_VERBS,
    pattern: new RegExp(`^\\w+ (?:an? |the |some )?(?:${NOT_PREPOSITION}[\\w+#-]+ ){0,3}?(?:${CODE_NOUNS})\\b`),
    produces: 'code',
    example: 'Write an SQL statement based on an English description of what the SQL statement does.',
  },

  // --- translation ------------------------------------------------------------------------
  {
    id: 'translation.translate',
    category: 'translation',
    verbs: ['translate'],
    pattern: /^translate\b/,
    example: 'Translate the poem to Panjabi without omitting or adding any information.',
  },
  {
    id: 'translation.convert-into-language',
    category: 'translation',
    verbs: ['convert', 'render', 'rewrite', 'put', 'turn', 'write', 'express'],
    pattern: new RegExp(`^\\w+ .*\\b(?:into|to|in) ${LANG}\\b(?! (?:text|sentence|word|words|passage|speakers?|description))`),
    example: 'Render the summary in German.',
  },

  // --- tagging (before classification's "label" and extraction's "identify") ----------------
  {
    id: 'tagging.pos-ner',
    category: 'tagging',
    verbs: ['tag', 'label', 'annotate', 'identify', 'provide', 'give', 'assign', 'predict', 'find', 'mark', 'determine', 'output', 'return', 'list', 'extract', 'recognize', 'detect', 'write'],
    pattern: /^\w+ (?:all |the |an? |each |every |all the )?(?:[\w-]+ ){0,2}?(?:part[- ]of[- ]speech|pos|named[- ]entit(?:y|ies)|ner)\b/,
    produces: taggingShape,
    example: 'Identify the part-of-speech tag of a word in a sentence enclosed in curly braces.',
  },
  {
    id: 'tagging.tag',
    category: 'tagging',
    verbs: ['tag', 'annotate'],
    pattern: /^(?:tag|annotate)\b/,
    example: 'Tag every token with its entity type.',
  },

  // --- summarization ----------------------------------------------------------------------
  {
    id: 'summarization.summarize',
    category: 'summarization',
    verbs: ['summarize', 'summarise'],
    pattern: /^summari[sz]e\b/,
    example: 'Summarize the article in one sentence.',
  },
  {
    id: 'summarization.write-summary',
    category: 'summarization',
    verbs: [...WRITE_VERBS, 'come'],
    pattern: /^\w+ (?:up with )?(?:an? |the )?(?:[\w-]+ ){0,2}?(?:summary|summaries|synopsis|abstract|tl;?dr|digest|recap|gist)\b/,
    example: 'Generate a summary of a set of reviews from Amazon and Yelp.',
  },
  {
    id: 'summarization.shorter-version',
    category: 'summarization',
    verbs: [...WRITE_VERBS],
    pattern: /^\w+ an? (?:compressed|condensed|shortened|shorter|brief|concise|abridged) version\b/,
    example: 'Write a compressed version of the given text in one sentence.',
  },
  {
    id: 'summarization.condense',
    category: 'summarization',
    verbs: ['condense', 'shorten', 'compress', 'abridge', 'boil', 'distill', 'distil', 'recap', 'tldr', 'tl;dr'],
    pattern: /^\S+/,
    example: 'Condense the report into three bullet points.',
  },

  // --- simplification ---------------------------------------------------------------------
  {
    id: 'simplification.simplify',
    category: 'simplification',
    verbs: ['simplify'],
    pattern: /^simplify\b/,
    example: 'Simplify each sentence to make it easier for non-native English speakers to understand.',
  },
  {
    id: 'simplification.plain-language',
    category: 'simplification',
    verbs: ['rewrite', 'rephrase', 'reword', 'make', 'explain', 'paraphrase', 'write', 'convert', 'turn'],
    pattern: /\b(?:in (?:simpler|plain|simple|easy) (?:words|language|terms|english)|easier to (?:understand|read)|for a (?:child|five[- ]year[- ]old|layperson|beginner|non-expert)|eli5)\b/,
    example: 'Rewrite the paragraph in plain language for a child.',
  },

  // --- grammar correction -----------------------------------------------------------------
  {
    id: 'grammar.fix-errors',
    category: 'grammar_correction',
    verbs: ['correct', 'fix', 'proofread', 'repair', 'edit', 'check', 'remove'],
    pattern: /^\w+ .*\b(?:grammar|grammatical|spelling|punctuation|typos?|errors?|mistakes?|capitali[sz]ation)\b/,
    example: 'Correct the grammar errors in the given sentence.',
  },
  {
    id: 'grammar.correct',
    category: 'grammar_correction',
    verbs: ['correct', 'proofread'],
    pattern: /^(?:correct|proofread)\b/,
    example: 'Correct the given English sentence.',
  },

  // --- paraphrase -------------------------------------------------------------------------
  {
    id: 'paraphrase.paraphrase',
    category: 'paraphrase',
    verbs: ['paraphrase', 'rephrase', 'reword', 'restate', 'reformulate'],
    pattern: /^\S+/,
    example: 'Paraphrase the given sentence while maintaining its original meaning.',
  },
  {
    id: 'paraphrase.own-words',
    category: 'paraphrase',
    verbs: ['rewrite', 'write', 'say', 'express', 'retell'],
    pattern: /\bin (?:your own|other|different) words\b/,
    example: 'Retell the story in your own words.',
  },

  // --- classification ---------------------------------------------------------------------
  {
    id: 'classification.classify',
    category: 'classification',
    verbs: ['classify', 'categorize', 'categorise', 'label'],
    pattern: /^\S+/,
    example: 'Classify the given sentence into one of the following categories: Background, Purpose, Method, or Finding.',
  },
  {
    id: 'classification.if-whether',
    category: 'classification',
    verbs: ['determine', 'decide', 'check', 'verify', 'detect', 'identify', 'judge', 'assess', 'evaluate', 'predict', 'tell', 'find', 'confirm', 'examine', 'establish', 'test', 'recognize', 'recognise', 'say', 'indicate', 'state', 'answer', 'figure', 'see', 'infer'],
    pattern: /^\w+ (?:out |me |us )?(?:if|whether)\b/,
    produces: 'boolean',
    example: 'Determine if the last sentence of the story is ironic or not based on the given definition of irony.',
  },
  {
    id: 'classification.yes-no-question',
    category: 'classification',
    verbs: ['is', 'are', 'does', 'do', 'did', 'can', 'could', 'was', 'were', 'will', 'would', 'has', 'have', 'should'],
    pattern: /^\w+ .*\?$|^(?:is|are|does|do) (?:the|this|it|there|these)\b/,
    produces: 'boolean',
    example: 'Is the review positive?',
  },
  {
    id: 'classification.attribute',
    category: 'classification',
    verbs: ['determine', 'identify', 'detect', 'predict', 'recognize', 'recognise', 'infer', 'guess', 'find', 'decide', 'assign', 'give', 'provide', 'tell', 'output', 'state', 'return', 'evaluate', 'assess', 'judge', 'analyze', 'analyse', 'what', "what's"],
    pattern:
      /^(?:what(?: is|'s| are)|\w+)(?: me| out)? (?:the |its |their |his |her |a |an )?(?:overall |main |predominant |primary |dominant |correct |appropriate |right |underlying |general |likely )?(?:sentiment|polarity|emotion|emotions|tone|stance|intent|intention|topic|category|class|genre|type|kind|language|gender|label|attitude|mood|toxicity|irony|sarcasm|formality|difficulty|level|domain|relation|relationship|speaker|author|nationality|personality|veracity|truthfulness|plausibility|validity|quality|dialect|register|grammaticality|grammatical correctness|correctness|acceptability|coherence|fluency|politeness|offensiveness|bias|stereotype|entailment|sense|meaning category)\b(?! (?:word|words|sentence|sentences|phrase|phrases|span|spans))/,
    example: 'Determine the topic of the compressed text.',
  },
  {
    id: 'classification.evaluate-quality',
    category: 'classification',
    verbs: ['evaluate', 'assess', 'judge', 'check', 'verify', 'examine'],
    pattern: /^\w+ (?:the |its |their )?(?:[\w-]+ ){0,4}?(?:correctness|quality|validity|plausibility|coherence|fluency|grammaticality|acceptability|readability|factuality|consistency)\b/,
    example: "Evaluate the grammatical and logical correctness of the steps and label them as 'yes' if they are error-free.",
  },
  {
    id: 'classification.rate',
    category: 'classification',
    verbs: ['rate', 'score', 'grade'],
    pattern: /^\S+/,
    produces: 'number',
    example: 'Rate the fluency of the translation on a scale from 1 to 5.',
  },

  // --- counting / numeric -----------------------------------------------------------------
  {
    id: 'counting.count',
    category: 'counting',
    verbs: ['count', 'tally', 'calculate', 'compute', 'sum', 'add', 'subtract', 'multiply', 'divide', 'average'],
    pattern: /^(?:count|tally|calculate|compute|sum|average)\b|^(?:add|subtract|multiply|divide) (?:up )?(?:the |all |two |\d)/,
    example: 'Count the number of times the letter "e" appears in the sentence.',
  },
  {
    id: 'counting.how-many',
    category: 'counting',
    verbs: ['how'],
    pattern: /^how (?:many|much|long|old|often|far)\b/,
    example: 'How many people are mentioned in the text?',
  },
  {
    id: 'counting.find-number',
    category: 'counting',
    verbs: ['find', 'determine', 'estimate', 'return', 'give', 'output', 'provide', 'state', 'what', 'get', 'predict'],
    pattern:
      /^(?:what(?: is|'s)|\w+) (?:up )?(?:the )?(?:total |exact |approximate |overall |estimated )?(?:number|count|sum|total|average|mean|median|product|difference|percentage|ratio|maximum|minimum|frequency|probability|length|age)\b(?! of (?:the )?(?:words|sentences|characters) (?:that|which)\b)/,
    example: 'Find the number of words in the sentence that start with a vowel.',
  },

  // --- sorting / listing ------------------------------------------------------------------
  {
    id: 'sorting.sort',
    category: 'sorting',
    verbs: ['sort', 'order', 'arrange', 'rank', 'alphabetize', 'alphabetise', 'reorder', 'reverse', 'shuffle', 'group', 'deduplicate', 'rearrange'],
    pattern: /^\S+/,
    produces: (clause) => (/\b(?:to form|into) (?:an? )?(?:sentence|coherent|story|paragraph|text)\b/.test(clause) ? 'passage' : 'list'),
    example: 'Arrange the given sentences in chronological order.',
  },
  {
    id: 'sorting.split',
    category: 'sorting',
    verbs: ['split', 'divide', 'segment', 'tokenize', 'tokenise', 'chunk'],
    pattern: /^\S+/,
    consumes: 'passage',
    example: 'Split the paragraph into sentences.',
  },

  // --- question answering: "determine what ...", "predict the objective" (before extraction)
  {
    id: 'qa.find-answer',
    category: 'question_answering',
    verbs: ['find', 'determine', 'predict', 'give', 'provide', 'state', 'tell', 'infer', 'identify', 'deduce', 'guess'],
    pattern:
      /^\w+ (?:me |out )?(?:what|who|which|when|where|why|how|the (?:correct |right |best |appropriate |final |most likely |likely |missing )?(?:answer|solution|result|response|outcome|consequence|cause|effect|reason|objective|purpose|meaning|definition|capital|date|time|location|room|value|motivation|goal|role))\b/,
    example: 'Predict the objective of the dialogue.',
  },

  // --- extraction -------------------------------------------------------------------------
  {
    id: 'extraction.extract',
    category: 'extraction',
    verbs: ['extract', 'pull', 'harvest', 'mine'],
    pattern: /^(?:extract|pull out|harvest|mine)\b/,
    example: 'Extract RDF triplets from the given sentence.',
  },
  {
    id: 'extraction.all',
    category: 'extraction',
    verbs: ['identify', 'find', 'list', 'highlight', 'locate', 'detect', 'spot', 'select', 'mark', 'enumerate', 'retrieve', 'get', 'pick', 'name', 'collect', 'gather', 'return', 'output'],
    pattern: /^\w+ (?:out )?(?:and list )?(?:all|every|each|the list of|any)\b/,
    produces: 'list',
    example: 'Identify and list all pronouns present in the sentence.',
  },
  {
    id: 'extraction.list',
    category: 'extraction',
    verbs: ['list', 'enumerate'],
    pattern: /^(?:list|enumerate) (?:the|all|every|each|any)\b/,
    produces: 'list',
    example: 'List the main points of the article.',
  },
  {
    id: 'extraction.span',
    category: 'extraction',
    verbs: ['identify', 'find', 'locate', 'detect', 'spot', 'highlight', 'pick', 'point', 'name', 'determine', 'select', 'underline', 'mark', 'extract', 'retrieve', 'get', 'recognize', 'quote', 'cite'],
    pattern:
      /^\w+ (?:out )?(?:the |a |an |any |one |two |three |both )?(?:[\w-]+ ){0,3}?(word|words|phrase|phrases|span|spans|entity|entities|noun|nouns|verb|verbs|adjectives?|keyword|keywords|subject|subjects|object|objects|name|names|positions?|sentence|sentences|pronoun|pronouns|numbers?|dates?|parts?|elements?|terms?|mentions?|events?|arguments?|evidence|clauses?|tokens?|characters?|locations?|persons?|people|aspects?|claims?|facts?|reasons?|causes?|query|queries|questions?|triplets?|triples?|quotes?|quotations?|excerpts?)\b/,
    produces: pluralObject,
    example: 'Identify the word with a typo in the given sentence.',
  },

  // --- question answering -----------------------------------------------------------------
  {
    id: 'qa.answer',
    category: 'question_answering',
    verbs: ['answer', 'respond', 'reply'],
    pattern: /^(?:answer|respond to|reply to)\b/,
    example: 'Answer the generated question based on the passage.',
  },
  {
    id: 'qa.wh-question',
    category: 'question_answering',
    verbs: ['what', "what's", 'who', 'whom', 'whose', 'when', 'where', 'which', 'why', 'how'],
    pattern: /^\S+/,
    example: 'What is the capital of the country mentioned in the text?',
  },
  // --- selection (multiple choice) ----------------------------------------------------------
  {
    id: 'selection.choose',
    category: 'selection',
    verbs: ['choose', 'select', 'pick', 'prefer'],
    pattern: /^\S+/,
    produces: selectionShape,
    example: 'Choose the simpler piece of text between two given texts.',
  },

  // --- reasoning --------------------------------------------------------------------------
  {
    id: 'reasoning.logic',
    category: 'reasoning',
    verbs: ['follow', 'solve', 'deduce', 'reason', 'prove', 'derive', 'simulate', 'execute', 'apply', 'resolve', 'perform', 'work', 'figure', 'evaluate', 'think', 'trace'],
    pattern: /^\S+/,
    example: 'Follow a sequence of instructions and perform basic logic and conditionals.',
  },
  {
    id: 'reasoning.decompose',
    category: 'reasoning',
    verbs: ['break', 'decompose'],
    pattern: /^(?:break (?:down|up)|decompose)\b/,
    produces: 'list',
    example: 'Break down a question into a list of steps required to answer it.',
  },

  // --- data to text (before generation) -----------------------------------------------------
  {
    id: 'data-to-text.describe-data',
    category: 'data_to_text',
    verbs: [...WRITE_VERBS, 'describe', 'convert', 'turn', 'verbalize', 'verbalise', 'explain', 'summarize', 'interpret'],
    pattern:
      /^\w+ (?:an? |the )?(?:[\w-]+ ){0,3}?(?:description|descriptions|sentence|sentences|text|paragraph|summary|interpretation|explanation|report|narrative|caption)?\s?(?:in natural language |in plain english |in english )?(?:of|for|from|describing|based on|that describes|using|given|about)? ?(?:the |a |an |given |following |these |this |provided |each )*(?:[\w-]+ ){0,2}?(?:table|tables|triples|triplets|data|record|records|json|attributes|key-value pairs|fields|csv|database|spreadsheet|structured data|meaning representation|command|logical form|infobox)\b/,
    example: 'Write a short description in natural language for given triples that show the relationship between the elements.',
  },
  {
    id: 'data-to-text.verbalize',
    category: 'data_to_text',
    verbs: ['verbalize', 'verbalise'],
    pattern: /^\S+/,
    example: 'Verbalize the facts about the city.',
  },

  // --- rewriting / style transfer -----------------------------------------------------------
  {
    id: 'rewriting.rewrite',
    category: 'rewriting',
    verbs: ['rewrite', 'convert', 'transform', 'modify', 'change', 'edit', 'alter', 'adapt', 'turn', 'revise', 'replace', 'elaborate', 'expand', 'extend', 'polish', 'improve', 'enhance', 'formalize', 'formalise', 'negate', 'flip', 'swap', 'insert', 'delete', 'remove', 'substitute', 'reformat', 'restructure', 'update', 'censor', 'anonymize', 'anonymise', 'neutralize', 'standardize', 'normalize', 'capitalize', 'lowercase', 'uppercase', 'fill-out', 'augment', 'redact', 'retell', 'shift', 'tone'],
    pattern: /^\S+/,
    example: 'Convert the positive review to a negative review while keeping the context intact.',
  },
  {
    id: 'rewriting.make-more',
    category: 'rewriting',
    verbs: ['make'],
    pattern: /^make (?:it|the|this|each|every|them)\b.*\b(?:more|less|formal|informal|polite|friendlier|shorter|longer|clearer)\b/,
    example: 'Make the email more polite.',
  },
  {
    id: 'rewriting.version',
    category: 'rewriting',
    verbs: [...WRITE_VERBS],
    pattern: /^\w+ an? (?:[\w-]+ ){0,2}version of\b/,
    example: 'Write a more formal version of the message.',
  },

  // --- generation (broadest; last) ----------------------------------------------------------
  {
    id: 'generation.explain',
    category: 'generation',
    verbs: ['explain', 'justify', 'describe', 'discuss', 'comment', 'interpret', 'analyze', 'analyse', 'critique', 'review', 'outline', 'plan', 'argue', 'brainstorm', 'imagine', 'recommend', 'suggest', 'propose', 'elaborate'],
    pattern: /^\S+/,
    produces: generatedShape,
    example: 'Explain the given question or fill-in-the-blank statement and provide an answer.',
  },
  {
    id: 'generation.write',
    category: 'generation',
    verbs: [...WRITE_VERBS, 'come', 'invent', 'formulate', 'design', 'craft', 'devise', 'prepare', 'output', 'return', 'predict', 'complete', 'continue', 'finish', 'fill', 'add', 'think', 'pose', 'ask', 'form', 'name', 'list', 'enumerate', 'offer', 'tell', 'say', 'create', 'produce', 'supply', 'state', 'use', 'construct', 'find', 'identify'],
    pattern: /^\S+/,
    produces: generatedShape,
    example: 'Generate a poem related to the given title, written in a simple and childlike manner.',
  },
];

// ---------------------------------------------------------------------------
// Cue rules: tried on the whole text when no verb rule matched
// ---------------------------------------------------------------------------

export interface CueRule {
  readonly id: string;
  readonly category: KnownTaskCategory;
  readonly pattern: RegExp;
  readonly produces?: OutputKind;
  readonly example: string;
}

export const CUE_RULES: readonly CueRule[] = [
  {
    id: 'cue.translation',
    category: 'translation',
    pattern: new RegExp(`\\btranslat(?:e|ion|ed)\\b.*\\b(?:into|to|in) ${LANG}\\b`),
    example: 'French translation, please: into French.',
  },
  {
    id: 'cue.sentiment',
    category: 'classification',
    pattern: /\b(?:sentiment|polarity) (?:analysis|classification|label)\b|\bis (?:it|this|the \w+) (?:positive|negative|ironic|sarcastic|toxic|offensive|spam|hateful)\b/,
    example: 'Sentiment analysis of the review.',
  },
  {
    id: 'cue.or-not',
    category: 'classification',
    pattern: /\b(?:or not|yes or no|true or false)\b|\b(?:ironic|sarcastic|toxic|offensive|hateful|spam|clickbait)\b\??$/,
    produces: 'boolean',
    example: 'The tweet: ironic or not?',
  },
  {
    id: 'cue.summary',
    category: 'summarization',
    pattern: /\b(?:summary|tl;?dr)\b/,
    example: 'A two-line summary of the text.',
  },
  {
    id: 'cue.question',
    category: 'question_answering',
    pattern: /\?\s*$/,
    example: 'Which city hosted the event?',
  },
];

// ---------------------------------------------------------------------------
// Format rules: refine what is produced, from phrases anywhere in the text
// ---------------------------------------------------------------------------

export interface FormatRule {
  readonly id: string;
  readonly pattern: RegExp;
  readonly produces: OutputKind;
  /** Categories the rule applies to; every category when absent. */
  readonly categories?: readonly TaskCategory[];
  /** Substrings one of which the text must contain for the pattern to be tried (a fast pre-filter). */
  readonly hints: readonly string[];
  /** Applies even when the deciding verb rule fixed what is produced. */
  readonly overridesFixed?: boolean;
  readonly example: string;
}

/** Categories whose output shape depends on how the answer is asked for. */
const ANSWER_SHAPED: readonly TaskCategory[] = ['classification', 'question_answering', 'selection', 'reasoning', 'unknown', 'tagging'];
/** Categories that make free text and may be asked to format it. */
const TEXT_MAKING: readonly TaskCategory[] = [
  'summarization',
  'extraction',
  'question_answering',
  'generation',
  'reasoning',
  'data_to_text',
  'tagging',
  'sorting',
  'unknown',
  'rewriting',
];

export const FORMAT_RULES: readonly FormatRule[] = [
  {
    id: 'format.explained',
    hints: ['expla', 'justif', 'reason', 'rationale', 'why'],
    pattern:
      /\b(?:and|then|,) (?:briefly )?(?:explain|justify|give (?:the |your )?reasons?|describe why)\b|\bexplain (?:why|your (?:answer|reasoning|choice))\b|\bwith (?:a |an )?(?:short |brief )?(?:explanation|justification|rationale)\b/,
    produces: 'passage',
    overridesFixed: true,
    categories: ['classification', 'selection', 'question_answering', 'reasoning', 'tagging'],
    example: 'Determine whether the claim is supported by the passage, and explain why.',
  },
  {
    id: 'format.json',
    hints: ['json'],
    pattern:
      /\b(?:in|as|into|to) (?:a |an |valid |the |one )?json\b|\b(?:return|output|respond with|produce|format|formatted as|answer in|give)\b[^.]{0,30}\bjson\b|\bjson (?:format|output)\b/,
    produces: 'json',
    categories: TEXT_MAKING,
    example: 'Return the entities as a JSON object.',
  },
  {
    id: 'format.list',
    hints: ['list', 'bullet', 'one per line', 'comma'],
    pattern:
      /\bas an? (?:[\w-]+ )?list\b|\bin an? (?:bulleted|numbered|comma[- ]separated|bullet|ordered) list\b|\bbullet(?:ed)? points?\b|\bone per line\b|\bcomma[- ]separated\b|\b(?:return|output|give|write|format|present|provide)\b[^.]{0,30}\b(?:as|in) an? list\b/,
    produces: 'list',
    categories: TEXT_MAKING,
    example: 'List the main points as a bulleted list.',
  },
  {
    id: 'format.yes-no',
    hints: ['yes', 'true', '1'],
    pattern:
      /\b(?:yes|true)['"]?\s*(?:or|and|\/)\s*['"]?(?:no|false)\b(?!-? ?questions?)|\blabel (?:it|them) as ['"]?(?:yes|no|true|false)\b|['"]1['"] for yes\b|\b(?:output|answer|return|respond with|print) ['"]?1['"]? if\b|\banswer (?:with )?['"]?(?:yes|no|true|false)['"]? if\b/,
    produces: 'boolean',
    categories: ANSWER_SHAPED,
    example: "Determine if any of the given options is a proper keyword for the abstract. (Answer 'Yes' or 'No')",
  },
  {
    id: 'format.label-set',
    hints: [' or ', 'one of', '(a', '(1', 'choose', 'with '],
    pattern:
      /\bas (?:either )?['"]?[\w -]{1,30}['"]? or ['"]?[\w -]{1,30}['"]?(?:[.,;]|$)|\binto one of\b|\b(?:one|either) of (?:the following|these|\w+) (?:categories|classes|labels|options|types)\b|\((?:a|1), (?:b|2), (?:c|3),? (?:or|and) (?:d|4)\)|\bchoose ['"]?(?:response|option|answer|sentence) ?[1-5a-e]\b|\bwith ['"]?[a-e]['"]?, ['"]?[a-e]['"]?,/,
    produces: 'label',
    categories: ['question_answering', 'selection', 'reasoning', 'unknown', 'extraction'],
    example: 'Answer the astronomy question by selecting the correct option (A, B, C, or D).',
  },
  {
    id: 'format.number',
    hints: ['number', 'integer', 'digit', 'count'],
    pattern: /\b(?:answer|respond|output|return|reply) (?:with )?(?:only )?(?:a|the|an) (?:single )?(?:number|integer|digit|count)\b/,
    produces: 'number',
    categories: ANSWER_SHAPED,
    example: 'Answer with a single number.',
  },
  {
    id: 'format.one-sentence',
    hints: ['sentence'],
    pattern: /\bin (?:one|a single) sentence\b|\bone[- ]sentence\b/,
    produces: 'sentence',
    categories: ['summarization', 'generation', 'paraphrase', 'rewriting', 'simplification', 'data_to_text', 'unknown'],
    example: 'Summarize the article in one sentence.',
  },
];

// ---------------------------------------------------------------------------
// Lead-ins removed from the start of a clause before the verb rules apply
// ---------------------------------------------------------------------------

export const LEAD_INS: readonly RegExp[] = [
  /^(?:\d+[.)]|[-*•]|step \d+:?)\s+/,
  /^(?:please|kindly|now|then|next|finally|first|firstly|lastly|also|carefully|briefly|simply|just|so|and)\b,?\s+/,
  /^(?:in this task,?|here,?|for this step,?|task:|instruction:)\s+/,
  /^(?:your|the) (?:task|job|goal|objective|aim) (?:here )?is (?:to )?/,
  /^you (?:need|have|are asked|are required|must|should|will|want|are expected|are going) to\s+/,
  /^you (?:must|should|will|can|may)\s+/,
  /^(?:i want|i need|i would like|i'd like) you to\s+/,
  /^(?:can|could|would|will) you (?:please )?/,
  /^(?:given|using|based on|from|with|for|after reading|reading|considering|looking at) [^,]{1,120},\s*/,
  /^(?:read|look at|consider|take|study|go through) [^,.]{1,80}?(?:,? and(?: then)?|,) (?=\w)/,
];
