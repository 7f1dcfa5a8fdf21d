/**
 * Edge checks: does what one step (or chain input) produces fit what the next
 * step consumes? Pure functions over `Endpoint`s, so the same rules serve
 * `.coi` chains (core/composability/index.ts) and plain instruction pairs
 * (`analyzeEdge`, used on the paper's records).
 */
import { analyzeInstruction, type InstructionAnalysis } from './infer';
import { CATEGORIES, type InputKind, type OutputKind, type TaskCategory } from '../lexicon/lexicon';
import { languageName } from '../lexicon/languages';

/** One side of an edge. */
export interface Endpoint {
  /** How messages name it: `step "summary"`, `input "article"`, `step 1` (capitalized at the start of a sentence). */
  readonly display: string;
  readonly isInput: boolean;
  readonly category: TaskCategory;
  readonly consumes: InputKind;
  readonly produces: OutputKind;
  /** True when `produces` comes from a declared contract or `task`, not from wording. */
  readonly producesDeclared: boolean;
  /** The closed label set, when the output contract declares one. */
  readonly labels?: readonly string[];
  /** ISO 639-1 code of the language of what it produces, when known. */
  readonly language?: string;
  /** ISO 639-1 code of the language it expects to read, when stated. */
  readonly inputLanguage?: string;
  /** For translations: the target language. */
  readonly translationTarget?: string;
}

export type EdgeFindingKind = 'passage-needed' | 'language-mismatch' | 'list-to-item' | 'json-to-text' | 'classifier-not-last' | 'structured-needed';

export const EDGE_CODES: Readonly<Record<EdgeFindingKind, string>> = {
  'passage-needed': 'COI301',
  'language-mismatch': 'COI302',
  'list-to-item': 'COI303',
  'json-to-text': 'COI304',
  'classifier-not-last': 'COI305',
  'structured-needed': 'COI306',
};

export interface EdgeFinding {
  readonly kind: EdgeFindingKind;
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** What the producer makes and what the consumer needs (for quick fixes and hovers). */
  readonly produces: OutputKind;
  readonly needs: InputKind;
  /** For language mismatches: the languages involved. */
  readonly producedLanguage?: string;
  readonly expectedLanguage?: string;
}

export interface EdgeContext {
  /**
   * The consumer reads other sources too, and at least one of them gives it
   * text: a label among them is auxiliary (e.g. `from review, sentiment`), not
   * the passage to work on.
   */
  readonly otherSourceGivesText: boolean;
}

/** "produces" for a step, "is" for a chain input. */
function makes(endpoint: Endpoint): string {
  return endpoint.isInput ? 'is' : 'produces';
}

/** `text` with its first letter in upper case (a display at the start of a sentence). */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const SCALAR_OUTPUTS: ReadonlySet<OutputKind> = new Set(['label', 'boolean', 'number']);
const TEXT_OUTPUTS: ReadonlySet<OutputKind> = new Set(['passage', 'sentence', 'list', 'json', 'code']);

export function givesText(kind: OutputKind): boolean {
  return TEXT_OUTPUTS.has(kind);
}

/** "a label (one of positive, negative)", "a yes/no answer (classification)", ... */
export function describeOutput(endpoint: Endpoint): string {
  const inferredFrom = !endpoint.producesDeclared && endpoint.category !== 'unknown' ? ` (${endpoint.category.replace(/_/g, ' ')})` : '';
  switch (endpoint.produces) {
    case 'label':
      return endpoint.labels && endpoint.labels.length > 0 ? `a label (one of ${endpoint.labels.join(', ')})` : `a label${inferredFrom}`;
    case 'boolean':
      return `a yes/no answer${inferredFrom}`;
    case 'number':
      return `a number${inferredFrom}`;
    case 'list':
      return `a list${inferredFrom}`;
    case 'json':
      return 'JSON';
    case 'code':
      return 'code';
    case 'sentence':
      return 'a short text';
    case 'passage':
      return 'a passage';
  }
}

function describeNeed(consumer: Endpoint): string {
  const purpose = CATEGORIES[consumer.category].purpose;
  switch (consumer.consumes) {
    case 'passage':
      return `a passage ${purpose}`;
    case 'item':
      return `a single item ${purpose}`;
    case 'label':
      return 'a label';
    case 'list':
      return `a list ${purpose}`;
    case 'json':
      return 'JSON';
    case 'code':
      return `code ${purpose}`;
    case 'any':
      return 'an input';
  }
}

function finding(
  kind: EdgeFindingKind,
  severity: 'error' | 'warning',
  message: string,
  producer: Endpoint,
  consumer: Endpoint,
  languages?: { produced: string; expected: string },
): EdgeFinding {
  return {
    kind,
    code: EDGE_CODES[kind],
    severity,
    message,
    produces: producer.produces,
    needs: consumer.consumes,
    ...(languages ? { producedLanguage: languages.produced, expectedLanguage: languages.expected } : {}),
  };
}

/** Every problem with the edge producer → consumer (at most one per kind). */
export function checkEdge(producer: Endpoint, consumer: Endpoint, context: EdgeContext = { otherSourceGivesText: false }): EdgeFinding[] {
  const findings: EdgeFinding[] = [];
  const out = producer.produces;
  const need = consumer.consumes;
  const classifierLike = !producer.isInput && (out === 'label' || out === 'boolean');

  if (SCALAR_OUTPUTS.has(out) && need === 'passage' && !context.otherSourceGivesText) {
    findings.push(
      finding('passage-needed', 'error', `${capitalize(producer.display)} ${makes(producer)} ${describeOutput(producer)} but ${consumer.display} needs ${describeNeed(consumer)}.`, producer, consumer),
    );
  } else if (classifierLike && need !== 'label') {
    findings.push(
      finding(
        'classifier-not-last',
        'warning',
        `${capitalize(producer.display)} ${makes(producer)} ${describeOutput(producer)}, yet ${consumer.display} reads it: classification-like steps should come last in a chain.`,
        producer,
        consumer,
      ),
    );
  }
  if (out === 'list' && need === 'item') {
    findings.push(
      finding('list-to-item', 'warning', `${capitalize(producer.display)} ${makes(producer)} ${describeOutput(producer)} but ${consumer.display} expects ${describeNeed(consumer)}.`, producer, consumer),
    );
  }
  if (out === 'json' && (need === 'passage' || need === 'item')) {
    findings.push(
      finding('json-to-text', 'warning', `${capitalize(producer.display)} ${makes(producer)} JSON but ${consumer.display} needs free text (${describeNeed(consumer)}).`, producer, consumer),
    );
  }
  const freeText = out === 'passage' || out === 'sentence' || out === 'list';
  if (!producer.isInput && freeText && (need === 'json' || need === 'code')) {
    findings.push(
      finding('structured-needed', 'warning', `${capitalize(producer.display)} ${makes(producer)} ${describeOutput(producer)} but ${consumer.display} needs ${describeNeed(consumer)}.`, producer, consumer),
    );
  }
  const languageFinding = checkLanguage(producer, consumer);
  if (languageFinding) findings.push(languageFinding);
  return findings;
}

function checkLanguage(producer: Endpoint, consumer: Endpoint): EdgeFinding | undefined {
  const produced = producer.language;
  if (!produced || !givesText(producer.produces)) return undefined;
  if (consumer.inputLanguage && consumer.inputLanguage !== produced) {
    return finding(
      'language-mismatch',
      'warning',
      `${capitalize(producer.display)} ${makes(producer)} ${languageName(produced)} text but ${consumer.display} expects ${languageName(consumer.inputLanguage)}.`,
      producer,
      consumer,
      { produced, expected: consumer.inputLanguage },
    );
  }
  if (consumer.category === 'translation' && consumer.translationTarget === produced) {
    return finding(
      'language-mismatch',
      'warning',
      `${capitalize(producer.display)} already ${makes(producer)} ${languageName(produced)} text, and ${consumer.display} translates it into ${languageName(produced)} again.`,
      producer,
      consumer,
      { produced, expected: produced },
    );
  }
  return undefined;
}

/** An endpoint from an instruction's wording alone (no declarations). */
export function endpointFromAnalysis(display: string, analysis: InstructionAnalysis, upstreamLanguage?: string): Endpoint {
  const translationTarget = analysis.category === 'translation' ? analysis.outputLanguage : undefined;
  const language =
    analysis.outputLanguage ?? (analysis.category === 'translation' ? undefined : (analysis.inputLanguage ?? upstreamLanguage));
  return {
    display,
    isInput: false,
    category: analysis.category,
    consumes: analysis.consumes,
    produces: analysis.produces,
    producesDeclared: false,
    ...(language !== undefined ? { language } : {}),
    ...(analysis.inputLanguage !== undefined ? { inputLanguage: analysis.inputLanguage } : {}),
    ...(translationTarget !== undefined ? { translationTarget } : {}),
  };
}

export interface EdgeAnalysis {
  readonly producer: InstructionAnalysis;
  readonly consumer: InstructionAnalysis;
  readonly findings: readonly EdgeFinding[];
}

/**
 * Checks one edge given as two plain instructions (the paper's records have
 * no contracts): `analyzeEdge("Summarize the article.", "Translate it into French.")`.
 */
export function analyzeEdge(producerText: string, consumerText: string, names: readonly [string, string] = ['step 1', 'step 2']): EdgeAnalysis {
  const producer = analyzeInstruction(producerText);
  const consumer = analyzeInstruction(consumerText);
  const findings = checkEdge(endpointFromAnalysis(names[0], producer), endpointFromAnalysis(names[1], consumer));
  return { producer, consumer, findings };
}
