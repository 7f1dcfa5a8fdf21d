/**
 * Step markers of the Chain-of-Instructions output format.
 *
 * A chain of k steps writes all its intermediate outputs in one text:
 *
 *     Task 1 output and task 2 input: <o1>
 *     Task 2 output and task 3 input: <o2>
 *     Task 3 output: <o3>
 *
 * The released data writes the markers inconsistently (`Task2 output:`, two spaces
 * instead of a newline between steps), and a model running a chain in "composed"
 * mode writes them however it learned to. The reader is therefore lenient about
 * the *spelling* of a marker and strict about its *numbering*: a marker is
 *
 *     [**] Task <ws>* N <ws>* output [<ws>* and <ws>* task <ws>* M <ws>* input] <ws>* [**] : [**]
 *
 * case-insensitive, anywhere in the text after a word boundary, where `<ws>*` is any
 * run of whitespace (possibly none) and the optional `**` is markdown bold as chat
 * models like to write it. Missing, duplicated, out-of-order, inconsistent
 * (`Task 1 output and task 3 input`) or extra markers are reported as errors with
 * the offset of the offending marker; nothing is guessed.
 */

/** One marker found in a text. */
export interface StepMarker {
  /** Offset of the first character of the marker (UTF-16 units). */
  readonly start: number;
  /** Offset just after the marker (after the colon and any closing `**`). */
  readonly end: number;
  /** The `N` of `Task N output`. */
  readonly step: number;
  /** The `M` of `and task M input`, when written. */
  readonly nextStep?: number;
  /** The marker as written. */
  readonly raw: string;
}

export type MarkerErrorCode =
  | 'no-markers'
  | 'missing-marker'
  | 'duplicate-marker'
  | 'out-of-order'
  | 'inconsistent-marker'
  | 'unexpected-marker'
  | 'text-before-first-marker'
  | 'bad-step-count';

export interface MarkerError {
  readonly code: MarkerErrorCode;
  /** A complete sentence naming the marker(s) involved. */
  readonly message: string;
  /** Offset in the text where the problem is (the offending marker, or the end). */
  readonly offset: number;
  /** The step number the error is about, when there is one. */
  readonly step?: number;
}

/** How an output text was laid out around its step outputs, to write it back byte for byte. */
export interface OutputLayout {
  /** Text before the first marker (empty in well-formed records). */
  readonly preamble: string;
  /** Each marker exactly as written. */
  readonly markers: readonly string[];
  /** Whitespace between each marker and its output. */
  readonly leading: readonly string[];
  /** Whitespace between each output and the next marker (or the end of the text). */
  readonly trailing: readonly string[];
  /**
   * The output holds no markers, only the last step's answer (one-instruction records,
   * and multi-step records that give only the final answer): `leading`/`trailing` of the
   * last step are the whitespace around it.
   */
  readonly finalAnswerOnly?: boolean;
}

export interface StepSegment {
  readonly marker: StepMarker;
  /** The step's output with surrounding whitespace removed. */
  readonly text: string;
  /** Offsets of `text` in the original. */
  readonly start: number;
  readonly end: number;
}

export type SplitResult =
  | { readonly ok: true; readonly outputs: readonly string[]; readonly segments: readonly StepSegment[]; readonly layout: OutputLayout }
  | { readonly ok: false; readonly error: MarkerError };

export interface SplitOptions {
  /**
   * Accept text before the first marker (a chat model's "Sure! Here are the outputs:").
   * Default false: such text is reported as `text-before-first-marker`.
   */
  readonly allowPreamble?: boolean;
}

// `\b` keeps `SubTask 1 output:` from matching; `\s*` everywhere accepts `Task2 output:`,
// `Task 1 output and task 2 input :` and markers split over lines.
const MARKER_SOURCE = String.raw`(?:\*\*)?\bTask\s*(\d{1,4})\s*output(?:\s*and\s*task\s*(\d{1,4})\s*input)?\s*(?:\*\*)?\s*:(?:\*\*)?`;

/** Every marker in `text`, in order of appearance. */
export function findMarkers(text: string): StepMarker[] {
  const pattern = new RegExp(MARKER_SOURCE, 'gi');
  const markers: StepMarker[] = [];
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const nextStep = match[2] === undefined ? undefined : Number(match[2]);
    markers.push({
      start: match.index,
      end: match.index + match[0].length,
      step: Number(match[1]),
      ...(nextStep === undefined ? {} : { nextStep }),
      raw: match[0],
    });
  }
  return markers;
}

/** The canonical marker written before the output of step `step` (1-based) of a `stepCount`-step chain. */
export function canonicalMarker(step: number, stepCount: number): string {
  return step < stepCount ? `Task ${step} output and task ${step + 1} input:` : `Task ${step} output:`;
}

function describe(marker: StepMarker): string {
  return `'${marker.raw}' (offset ${marker.start})`;
}

/** Checks that `markers` number the steps 1..stepCount exactly once each, in order. */
function validateSequence(markers: readonly StepMarker[], stepCount: number, textLength: number): MarkerError | undefined {
  const firstSeen = new Map<number, StepMarker>();
  for (const [position, marker] of markers.entries()) {
    const expected = position + 1;
    if (marker.step < 1 || marker.step > stepCount) {
      return {
        code: 'unexpected-marker',
        message: `Marker ${describe(marker)} names task ${marker.step}, but the chain has ${stepCount} step${stepCount === 1 ? '' : 's'}.`,
        offset: marker.start,
        step: marker.step,
      };
    }
    const earlier = firstSeen.get(marker.step);
    if (earlier !== undefined) {
      return {
        code: 'duplicate-marker',
        message: `Marker for task ${marker.step} appears twice: ${describe(earlier)} and ${describe(marker)}.`,
        offset: marker.start,
        step: marker.step,
      };
    }
    firstSeen.set(marker.step, marker);
    if (marker.step !== expected) {
      const laterExpected = markers.slice(position + 1).find((m) => m.step === expected);
      if (laterExpected !== undefined) {
        return {
          code: 'out-of-order',
          message: `Marker for task ${marker.step} ${describe(marker)} comes before the marker for task ${expected} ${describe(laterExpected)}.`,
          offset: marker.start,
          step: marker.step,
        };
      }
      return {
        code: 'missing-marker',
        message: `No marker for task ${expected}: expected '${canonicalMarker(expected, stepCount)}' before ${describe(marker)}.`,
        offset: marker.start,
        step: expected,
      };
    }
    if (marker.nextStep !== undefined && marker.nextStep !== marker.step + 1) {
      return {
        code: 'inconsistent-marker',
        message: `Marker ${describe(marker)} says task ${marker.step}'s output is task ${marker.nextStep}'s input; expected task ${marker.step + 1}.`,
        offset: marker.start,
        step: marker.step,
      };
    }
    if (marker.nextStep !== undefined && marker.step === stepCount) {
      return {
        code: 'unexpected-marker',
        message: `Marker ${describe(marker)} announces task ${marker.nextStep}, but the chain has ${stepCount} step${stepCount === 1 ? '' : 's'}.`,
        offset: marker.start,
        step: marker.step,
      };
    }
  }
  if (markers.length < stepCount) {
    const missing = markers.length + 1;
    return {
      code: 'missing-marker',
      message: `No marker for task ${missing}: expected '${canonicalMarker(missing, stepCount)}'${markers.length > 0 ? ' after the output of task ' + markers.length : ''}.`,
      offset: textLength,
      step: missing,
    };
  }
  return undefined;
}

const leadingWhitespace = /^\s*/;
const trailingWhitespace = /\s*$/;

/**
 * Splits one text holding the outputs of a `stepCount`-step chain into per-step outputs.
 *
 * Used on the paper's records and on a model's output in composed mode. A 1-step chain
 * without any marker is accepted: the whole text is the output. Outputs are trimmed; the
 * `layout` keeps what was trimmed and the markers as written so `joinWithLayout`
 * reproduces the text exactly.
 */
export function splitStepOutputs(text: string, stepCount: number, options: SplitOptions = {}): SplitResult {
  if (!Number.isInteger(stepCount) || stepCount < 1) {
    return { ok: false, error: { code: 'bad-step-count', message: `A chain has at least one step (got ${stepCount}).`, offset: 0 } };
  }
  const markers = findMarkers(text);
  if (markers.length === 0 && stepCount === 1) {
    return { ok: true, ...segmentsOf(text, [{ start: 0, end: 0, step: 1, raw: '' }], '') };
  }
  if (markers.length === 0) {
    return {
      ok: false,
      error: {
        code: 'no-markers',
        message: `No step markers found: expected '${canonicalMarker(1, stepCount)}' … '${canonicalMarker(stepCount, stepCount)}'.`,
        offset: 0,
      },
    };
  }
  const error = validateSequence(markers, stepCount, text.length);
  if (error !== undefined) return { ok: false, error };
  const first = markers[0] as StepMarker;
  const preamble = text.slice(0, first.start);
  if (preamble.trim() !== '' && options.allowPreamble !== true) {
    return {
      ok: false,
      error: {
        code: 'text-before-first-marker',
        message: `Text before the first marker ${describe(first)}: ${JSON.stringify(truncate(preamble.trim(), 40))}.`,
        offset: 0,
      },
    };
  }
  return { ok: true, ...segmentsOf(text, markers, preamble) };
}

function segmentsOf(
  text: string,
  markers: readonly StepMarker[],
  preamble: string,
): { outputs: string[]; segments: StepSegment[]; layout: OutputLayout } {
  const segments: StepSegment[] = [];
  const leading: string[] = [];
  const trailing: string[] = [];
  for (const [i, marker] of markers.entries()) {
    const bodyEnd = markers[i + 1]?.start ?? text.length;
    const body = text.slice(marker.end, bodyEnd);
    const lead = (leadingWhitespace.exec(body) as RegExpExecArray)[0];
    const rest = body.slice(lead.length);
    const trail = (trailingWhitespace.exec(rest) as RegExpExecArray)[0];
    const start = marker.end + lead.length;
    const end = bodyEnd - trail.length;
    segments.push({ marker, text: text.slice(start, end), start, end });
    leading.push(lead);
    trailing.push(trail);
  }
  return {
    outputs: segments.map((s) => s.text),
    segments,
    layout: { preamble, markers: markers.map((m) => m.raw), leading, trailing },
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/**
 * Joins per-step outputs with the canonical markers, one step per line:
 * `Task 1 output and task 2 input: o1\nTask 2 output: o2` (an empty output leaves no
 * space after its marker).
 */
export function joinStepOutputs(outputs: readonly string[]): string {
  // A one-step record is the bare output, as in the paper's one-instruction sets (BIG-Bench Hard).
  if (outputs.length === 1) return outputs[0] ?? '';
  return outputs.map((output, i) => canonicalMarker(i + 1, outputs.length) + (output === '' ? '' : ` ${output}`)).join('\n');
}

/** Joins per-step outputs with the markers and whitespace of `layout` (from `splitStepOutputs`). */
export function joinWithLayout(outputs: readonly string[], layout: OutputLayout): string {
  if (layout.finalAnswerOnly === true) {
    const last = outputs.length - 1;
    return (layout.leading[last] ?? '') + (outputs[last] ?? '') + (layout.trailing[last] ?? '');
  }
  if (layout.markers.length !== outputs.length) return joinStepOutputs(outputs);
  let text = layout.preamble;
  for (const [i, output] of outputs.entries()) {
    text += (layout.markers[i] ?? '') + (layout.leading[i] ?? '') + output + (layout.trailing[i] ?? '');
  }
  return text;
}

/** The output text rewritten with canonical markers and separators (what `joinStepOutputs` writes). */
export function normalizeMarkedOutput(text: string, stepCount: number): string | undefined {
  const split = splitStepOutputs(text, stepCount);
  return split.ok ? joinStepOutputs(split.outputs) : undefined;
}
