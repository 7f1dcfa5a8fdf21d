/**
 * Infers what an instruction does from its wording, with the lexicon of
 * core/composability/lexicon.ts (documented in docs/composability.md).
 * Works on plain strings, so it serves both `.coi` steps and the paper's
 * records (which have no contracts).
 */
import {
  CATEGORIES,
  CUE_RULES,
  FORMAT_RULES,
  LEAD_INS,
  VERB_RULES,
  type InputKind,
  type OutputKind,
  type TaskCategory,
  type VerbRule,
} from '../lexicon/lexicon';
import { isLanguageName, LANGUAGE_NAME_PATTERN, languageCode } from '../lexicon/languages';

export interface InstructionAnalysis {
  readonly category: TaskCategory;
  readonly consumes: InputKind;
  readonly produces: OutputKind;
  /** ISO 639-1 code of the language the step writes in, when the wording fixes it ("into French"). */
  readonly outputLanguage?: string;
  /** ISO 639-1 code of the language the step expects to read ("Translate the English text"). */
  readonly inputLanguage?: string;
  /** Id of the verb or cue rule that decided the category (absent for `unknown`). */
  readonly rule?: string;
  /** Id of the format rule that refined what is produced, if any. */
  readonly formatRule?: string;
}

/** Verb rules by the first word of a clause, in lexicon order. */
const RULES_BY_VERB: ReadonlyMap<string, readonly VerbRule[]> = (() => {
  const map = new Map<string, VerbRule[]>();
  for (const rule of VERB_RULES) {
    for (const verb of rule.verbs) {
      const list = map.get(verb) ?? [];
      list.push(rule);
      map.set(verb, list);
    }
  }
  return map;
})();

const LANGUAGE_NOUNS =
  'text|texts|sentence|sentences|passage|paragraph|article|document|review|reviews|tweet|tweets|question|questions|input|version|summary|translation|original|speech|word|words|phrase|phrases|content|source|story|poem|caption|title|query|utterance|utterances|message|transcript|description|answer|explanation';
/** "the English text", "the given French sentence", "from English": what the step reads. */
const INPUT_LANGUAGE = new RegExp(
  `\\b(?:the|this|these|those|given|provided|following|original|unfinished|input|its|each|every) (?:[\\w-]+ )?(${LANGUAGE_NAME_PATTERN}) (?:${LANGUAGE_NOUNS})\\b|\\bfrom (${LANGUAGE_NAME_PATTERN})\\b`,
);
/** "Write a French summary": what the step writes. */
const OUTPUT_LANGUAGE_OBJECT = new RegExp(
  `^(?:write|generate|create|produce|compose|draft|give|provide) an? (?:[\\w-]+ )?(${LANGUAGE_NAME_PATTERN}) (?:${LANGUAGE_NOUNS})\\b`,
);
const OUTPUT_LANGUAGE_TRANSLATION = new RegExp(`\\b(?:into|to|in) (${LANGUAGE_NAME_PATTERN})\\b(?! (?:${LANGUAGE_NOUNS}|speakers?))`);
const OUTPUT_LANGUAGE_ANY = new RegExp(`\\b(?:into|in) (${LANGUAGE_NAME_PATTERN})\\b(?! (?:${LANGUAGE_NOUNS}|speakers?))`);

/** An instruction about a whole collection ("the steps", "the extracted RDF triplets", "the list"). */
const COLLECTION_OBJECT =
  /\b(?:the|these|those|all|each of the) (?:[\w-]+ ){0,2}?(?:list|lists|steps|series|triplets|triples|items|numbers|pronouns|sub-questions|entities|keywords|elements)\b/;

const WORD = /[a-z]{3,}/g;

function mentionsLanguage(normalized: string): boolean {
  WORD.lastIndex = 0;
  for (let match = WORD.exec(normalized); match; match = WORD.exec(normalized)) if (isLanguageName(match[0])) return true;
  return false;
}

const CACHE_LIMIT = 20_000;
const cache = new Map<string, InstructionAnalysis>();

/** Forgets every cached analysis (benchmarks use it to measure the cold cost). */
export function clearInstructionCache(): void {
  cache.clear();
}

/** Lower case, single spaces. */
export function normalizeInstruction(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

function sentencesOf(normalized: string): string[] {
  return normalized.split(/(?<=[.!?;:])\s+(?=\S)/);
}

/** First words that may start a lead-in; other clauses skip the lead-in patterns (a fast path). */
const LEAD_IN_STARTERS: ReadonlySet<string> = new Set(
  (
    'step please kindly now then next finally first firstly lastly also carefully briefly simply just so and in here for task instruction ' +
    'your the you i can could would will given using based from with after reading considering looking read look consider take study go'
  ).split(' '),
);

function stripLeadIns(sentence: string): string {
  let clause = sentence.replace(/^["'(\s]+/, '');
  for (let round = 0; round < 4; round++) {
    const first = firstWord(clause);
    if (first !== '' && !LEAD_IN_STARTERS.has(first)) break;
    const before = clause;
    for (const leadIn of LEAD_INS) clause = clause.replace(leadIn, '');
    if (clause === before) break;
  }
  return clause;
}

function firstWord(clause: string): string {
  return /^[a-z][a-z';-]*/.exec(clause)?.[0] ?? '';
}

interface CategoryMatch {
  readonly category: TaskCategory;
  readonly consumes: InputKind;
  readonly produces: OutputKind;
  readonly rule?: string;
  /** The rule states what is produced; format rules do not change it. */
  readonly fixedShape?: boolean;
}

/** Tries the verb rules clause by clause (lazily: most instructions match on their first sentence). */
function matchVerbRules(normalized: string): CategoryMatch | undefined {
  for (const sentence of sentencesOf(normalized)) {
    const clause = stripLeadIns(sentence);
    const rules = RULES_BY_VERB.get(firstWord(clause));
    if (!rules) continue;
    for (const rule of rules) {
      const match = rule.pattern.exec(clause);
      if (!match) continue;
      const info = CATEGORIES[rule.category];
      const produces = typeof rule.produces === 'function' ? rule.produces(clause, match) : (rule.produces ?? info.produces);
      const fixedShape = typeof rule.produces === 'string';
      return { category: rule.category, consumes: rule.consumes ?? info.consumes, produces, rule: rule.id, fixedShape };
    }
  }
  return undefined;
}

function matchCueRules(normalized: string): CategoryMatch | undefined {
  for (const rule of CUE_RULES) {
    if (!rule.pattern.test(normalized)) continue;
    const info = CATEGORIES[rule.category];
    return { category: rule.category, consumes: info.consumes, produces: rule.produces ?? info.produces, rule: rule.id };
  }
  return undefined;
}

/** What the instruction does, consumes and produces, inferred from its wording. */
export function analyzeInstruction(text: string): InstructionAnalysis {
  const cached = cache.get(text);
  if (cached) return cached;
  const analysis = analyzeUncached(text);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, analysis);
  return analysis;
}

function analyzeUncached(text: string): InstructionAnalysis {
  const normalized = normalizeInstruction(text);
  const match = matchVerbRules(normalized) ?? matchCueRules(normalized) ?? {
    category: 'unknown' as const,
    consumes: CATEGORIES.unknown.consumes,
    produces: CATEGORIES.unknown.produces,
  };
  // "Determine if the numbers in the list ...": a step that names a collection reads it whole.
  const consumes = match.consumes === 'item' && COLLECTION_OBJECT.test(normalized) ? 'any' : match.consumes;
  let produces = match.produces;
  let formatRule: string | undefined;
  for (const rule of FORMAT_RULES) {
    if (match.fixedShape && !rule.overridesFixed) continue;
    if (rule.categories && !rule.categories.includes(match.category)) continue;
    if (rule.produces === 'sentence' && produces !== 'passage') continue;
    if (!rule.hints.some((hint) => normalized.includes(hint))) continue;
    if (!rule.pattern.test(normalized)) continue;
    produces = rule.produces;
    formatRule = rule.id;
    break;
  }
  // The language patterns are long alternations: run them only when a language is named.
  const namesLanguage = mentionsLanguage(normalized);
  const inputMatch = namesLanguage ? INPUT_LANGUAGE.exec(normalized) : null;
  const inputName = inputMatch?.[1] ?? inputMatch?.[2];
  const outputPattern = match.category === 'translation' ? OUTPUT_LANGUAGE_TRANSLATION : OUTPUT_LANGUAGE_ANY;
  const outputName = namesLanguage ? (outputPattern.exec(normalized)?.[1] ?? OUTPUT_LANGUAGE_OBJECT.exec(normalized)?.[1]) : undefined;
  const result: InstructionAnalysis = {
    category: match.category,
    consumes,
    produces,
    ...(outputName !== undefined ? { outputLanguage: languageCode(outputName) } : {}),
    ...(inputName !== undefined ? { inputLanguage: languageCode(inputName) } : {}),
    ...(match.rule !== undefined ? { rule: match.rule } : {}),
    ...(formatRule !== undefined ? { formatRule } : {}),
  };
  return result;
}
