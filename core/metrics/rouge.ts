/**
 * ROUGE-L with the semantics of Google's `rouge-score` (`RougeScorer(['rougeL'],
 * use_stemmer=True)`), the metric of the CoI paper:
 * - lower-case, then every run of characters outside [a-z0-9] is a separator
 *   (so accented letters split words, as in rouge-score);
 * - NLTK's Porter stemmer on tokens longer than 3 characters;
 * - F-measure of the longest common subsequence; an empty side scores 0.
 */
import { porterStem } from './porter';

export interface RougeScore {
  readonly precision: number;
  readonly recall: number;
  readonly fmeasure: number;
}

export interface RougeOptions {
  /** Porter stemming of tokens longer than 3 characters (default true, as in the paper). */
  readonly stem?: boolean;
}

const NON_ALPHANUMERIC = /[^a-z0-9]+/g;

/**
 * Stems already computed. Scoring an evaluation stems the same few thousand
 * words over and over (references, outputs, every step); the stemmer's rule
 * lists dominated its profile. Bounded so a long-lived process cannot grow it
 * without limit: when full it starts over.
 */
const STEM_CACHE_LIMIT = 50_000;
const stemCache = new Map<string, string>();

function cachedStem(token: string): string {
  let stem = stemCache.get(token);
  if (stem === undefined) {
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stem = porterStem(token);
    stemCache.set(token, stem);
  }
  return stem;
}

/** rouge-score's `tokenize.tokenize(text, stemmer)`. */
export function rougeTokenize(text: string, options: RougeOptions = {}): string[] {
  const stem = options.stem ?? true;
  const tokens = text.toLowerCase().replace(NON_ALPHANUMERIC, ' ').split(/\s+/).filter((t) => t.length > 0);
  return stem ? tokens.map((t) => (t.length > 3 ? cachedStem(t) : t)) : tokens;
}

/** Length of the longest common subsequence, in O(min(n, m)) memory. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let previous = new Uint32Array(short.length + 1);
  let current = new Uint32Array(short.length + 1);
  for (let i = 1; i <= long.length; i++) {
    const token = long[i - 1];
    for (let j = 1; j <= short.length; j++) {
      current[j] = token === short[j - 1] ? (previous[j - 1] ?? 0) + 1 : Math.max(previous[j] ?? 0, current[j - 1] ?? 0);
    }
    [previous, current] = [current, previous];
  }
  return previous[short.length] ?? 0;
}

/** Scores token lists (already tokenized with `rougeTokenize`). */
export function rougeLTokens(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

/** ROUGE-L of `prediction` against the reference `target` (argument order as in rouge-score). */
export function rougeL(target: string, prediction: string, options: RougeOptions = {}): RougeScore {
  return rougeLTokens(rougeTokenize(target, options), rougeTokenize(prediction, options));
}
