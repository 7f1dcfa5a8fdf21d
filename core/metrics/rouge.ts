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

/** A token: a maximal run of [a-z0-9] in the lower-cased text (rouge-score's separators are everything else). */
const TOKEN = /[a-z0-9]+/g;

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
  const tokens = text.toLowerCase().match(TOKEN) ?? [];
  if (options.stem === false) return tokens;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.length > 3) tokens[i] = cachedStem(token);
  }
  return tokens;
}

/**
 * Token ids: the LCS compares small integers in typed arrays instead of strings.
 * An evaluation scores every step of every item, so this is its hottest loop:
 * each word as written maps straight to its stem's id (one lookup; a word is
 * stemmed the first time only). When they grow large the tables start over,
 * between calls (ids kept across calls carry their epoch: `rougeIdEpoch`). (A hand-written
 * scanner with its own hash table, hashing words in place, measured slower.)
 */
const TABLE_LIMIT = 100_000;

/** Interned strings (stems): string → id. */
const stemIds = new Map<string, number>();

function idOfStem(stem: string): number {
  let id = stemIds.get(stem);
  if (id === undefined) {
    id = stemIds.size;
    stemIds.set(stem, id);
  }
  return id;
}

/** Words as written (lower-cased) → the id of their stem, or of themselves when not stemmed. */
const stemmedWordIds = new Map<string, number>();
const plainWordIds = new Map<string, number>();

/** Which generation of the tables ids belong to: it changes when they start over. */
let tablesEpoch = 0;

function startOverWhenFull(): void {
  if (stemIds.size < TABLE_LIMIT && stemmedWordIds.size < TABLE_LIMIT && plainWordIds.size < TABLE_LIMIT) return;
  stemIds.clear();
  stemmedWordIds.clear();
  plainWordIds.clear();
  tablesEpoch++;
}

function idsOf(tokens: readonly string[]): Int32Array {
  const ids = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) ids[i] = idOfStem(tokens[i]!);
  return ids;
}

/** `rougeTokenize(text)` as ids: one lookup per word, stemming each distinct word once. */
function tokenIdsOf(text: string, stem: boolean): Int32Array {
  const words = text.toLowerCase().match(TOKEN);
  if (words === null) return new Int32Array(0);
  const table = stem ? stemmedWordIds : plainWordIds;
  const ids = new Int32Array(words.length);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let id = table.get(word);
    if (id === undefined) {
      id = idOfStem(stem && word.length > 3 ? cachedStem(word) : word);
      table.set(word, id);
    }
    ids[i] = id;
  }
  return ids;
}

/** Row of each id's match mask in `lcsOfIds` (0: none), kept between calls and reset after each. */
let maskRowOfId: Int32Array = new Int32Array(1024);

/**
 * Length of the longest common subsequence of two id sequences, bit-parallel
 * (Hyyrö 2004, "Bit-parallel LCS-length computation revisited"): the shorter
 * sequence is a bit vector V, one bit per position; each token of the longer
 * one updates V with an addition and a mask, 32 positions per machine word,
 * and the LCS length is the number of zero bits left. O(n·⌈m/32⌉) time instead
 * of the n·m table (a whole composed output against its whole reference is a few
 * hundred tokens each way), and one mask of ⌈m/32⌉ words per distinct token of
 * the shorter sequence.
 */
function lcsOfIds(a: Int32Array, b: Int32Array): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  const m = short.length;
  if (m === 0) return 0;
  const words = (m + 31) >>> 5;
  // A row per distinct id of `short` (rows from 1: 0 is "not in short")...
  let rows = 0;
  for (let j = 0; j < m; j++) {
    const id = short[j]!;
    if (id >= maskRowOfId.length) maskRowOfId = growTo(maskRowOfId, id + 1);
    if (maskRowOfId[id] === 0) maskRowOfId[id] = ++rows;
  }
  // ...holding its match mask: bit j set where short[j] has that id.
  const masks = new Uint32Array(words * (rows + 1));
  for (let j = 0; j < m; j++) masks[maskRowOfId[short[j]!]! * words + (j >>> 5)]! |= 1 << (j & 31);
  const v = new Uint32Array(words).fill(0xffffffff);
  for (let i = 0; i < long.length; i++) {
    const id = long[i]!;
    const row = id < maskRowOfId.length ? maskRowOfId[id]! : 0;
    if (row === 0) continue; // no match: V stays as it is
    const base = row * words;
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const word = v[w]!;
      const match = masks[base + w]!;
      // V' = (V + U) | (V - U) with U = V & match, so that V - U = V & ~match.
      const sum = word + ((word & match) >>> 0) + carry;
      carry = sum > 0xffffffff ? 1 : 0;
      v[w] = (sum | (word & ~match)) >>> 0;
    }
  }
  for (let j = 0; j < m; j++) maskRowOfId[short[j]!] = 0;
  let zeros = 0;
  for (let w = 0; w < words; w++) {
    const bits = w === words - 1 && (m & 31) !== 0 ? m & 31 : 32;
    zeros += bits - popCount(v[w]! & (bits === 32 ? 0xffffffff : (1 << bits) - 1));
  }
  return zeros;
}

function growTo(array: Int32Array, length: number): Int32Array {
  const grown = new Int32Array(Math.max(length, array.length * 2));
  grown.set(array);
  return grown;
}

function popCount(value: number): number {
  let x = value - ((value >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Length of the longest common subsequence. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  startOverWhenFull();
  return lcsOfIds(idsOf(a), idsOf(b));
}

function scoreOf(targetLength: number, predictionLength: number, lcs: number): RougeScore {
  if (targetLength === 0 || predictionLength === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const precision = lcs / predictionLength;
  const recall = lcs / targetLength;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

/** Scores token lists (already tokenized with `rougeTokenize`). */
export function rougeLTokens(target: readonly string[], prediction: readonly string[]): RougeScore {
  return scoreOf(target.length, prediction.length, lcsLength(target, prediction));
}

/** ROUGE-L of `prediction` against the reference `target` (argument order as in rouge-score). */
export function rougeL(target: string, prediction: string, options: RougeOptions = {}): RougeScore {
  startOverWhenFull();
  const stem = options.stem ?? true;
  return rougeLOfIds(tokenIdsOf(target, stem), tokenIdsOf(prediction, stem));
}

/**
 * Scoring several pairs that share texts (an evaluation scores each step, then the
 * whole output, which is the steps' outputs joined with markers): each text is
 * tokenized once, and a joined text's ids are its parts' ids joined, since every
 * part starts and ends at a separator. Ids compare only with ids of the same epoch:
 * `rougeIdEpoch()` is where the tables may start over, and nothing else between
 * it and the comparisons may (`rougeL` itself does), so keep them in one
 * synchronous stretch; ids kept longer (an item's references, for its other models)
 * are reused only while the epoch is the same.
 */
export function rougeIdEpoch(): number {
  startOverWhenFull();
  return tablesEpoch;
}

/** `rougeTokenize(text)` (stemmed) as ids of the current epoch. */
export function rougeTokenIds(text: string): Int32Array {
  return tokenIdsOf(text, true);
}

/** The ids of texts joined with separators between them (each part's ids in turn). */
export function joinTokenIds(parts: readonly Int32Array[]): Int32Array {
  const joined = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

/** `rougeL(target, prediction)` from their ids (of one epoch). */
export function rougeLOfIds(target: Int32Array, prediction: Int32Array): RougeScore {
  return scoreOf(target.length, prediction.length, lcsOfIds(target, prediction));
}
