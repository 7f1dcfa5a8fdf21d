/**
 * A word diff of two texts, for showing two outputs (or a reference and an output)
 * side by side with the differing words marked. Pure: the panel renders the segments
 * with textContent, the unit tests check them in plain Node.
 */

export interface DiffSegment {
  readonly text: string;
  /** Not in the other text (removed on the left side, added on the right side). */
  readonly changed: boolean;
}

export interface WordDiff {
  readonly left: readonly DiffSegment[];
  readonly right: readonly DiffSegment[];
  /** Words of either side that are not in the longest common subsequence. */
  readonly changedWords: number;
  /** The texts were too long for a full LCS: only the common prefix and suffix were matched. */
  readonly approximate: boolean;
}

/** Above this many LCS cells the middle is marked changed as a whole (keeps the panel responsive). */
const maxCells = 4_000_000;

/** Words and the whitespace between them, so joining the tokens gives the text back. */
export function tokenize(text: string): string[] {
  return text.match(/\s+|[^\s]+/g) ?? [];
}

const isSpace = (token: string): boolean => /^\s+$/.test(token);

export function wordDiff(left: string, right: string): WordDiff {
  const a = tokenize(left);
  const b = tokenize(right);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const middleA = a.slice(start, endA);
  const middleB = b.slice(start, endB);
  const approximate = middleA.length * middleB.length > maxCells;
  const [keepA, keepB] = approximate ? [middleA.map(() => false), middleB.map(() => false)] : commonTokens(middleA, middleB);
  const leftMarks = [...a.slice(0, start).map(() => true), ...keepA, ...a.slice(endA).map(() => true)];
  const rightMarks = [...b.slice(0, start).map(() => true), ...keepB, ...b.slice(endB).map(() => true)];
  const leftSegments = segments(a, leftMarks);
  const rightSegments = segments(b, rightMarks);
  const changedWords = countChanged(a, leftMarks) + countChanged(b, rightMarks);
  return { left: leftSegments, right: rightSegments, changedWords, approximate };
}

/** For each token of a and of b: whether it is in a longest common subsequence. */
function commonTokens(a: readonly string[], b: readonly string[]): [boolean[], boolean[]] {
  const n = a.length;
  const m = b.length;
  // lengths[i][j]: LCS of a[i..] and b[j..], as one flat array of (n+1)×(m+1).
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] = a[i] === b[j] ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1 : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0);
    }
  }
  const keepA = new Array<boolean>(n).fill(false);
  const keepB = new Array<boolean>(m).fill(false);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      keepA[i++] = true;
      keepB[j++] = true;
    } else if ((lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0)) i++;
    else j++;
  }
  return [keepA, keepB];
}

/** Runs of kept and changed tokens; whitespace joins the run before it, so marks cover words only. */
function segments(tokens: readonly string[], kept: readonly boolean[]): DiffSegment[] {
  const out: { text: string; changed: boolean }[] = [];
  tokens.forEach((token, index) => {
    const changed = !isSpace(token) && kept[index] !== true;
    const last = out[out.length - 1];
    if (last !== undefined && (last.changed === changed || isSpace(token))) {
      if (isSpace(token) && last.changed) out.push({ text: token, changed: false });
      else last.text += token;
    } else out.push({ text: token, changed });
  });
  return out;
}

function countChanged(tokens: readonly string[], kept: readonly boolean[]): number {
  return tokens.filter((token, index) => !isSpace(token) && kept[index] !== true).length;
}
