/**
 * Hover content. On a step header: which step or input it reads, the inferred task
 * (what it consumes and produces), its contract, and the composability verdict of its
 * incoming edge. On a reference: a summary of what it names. On a contract kind, a
 * matcher or a model profile's key: what it means.
 *
 * Everything the file says (instruction text, names, labels, values, messages that quote
 * them) is untrusted: it goes into the Markdown in a code fence or span, or escaped, so a
 * cloned repository's `.coi` file cannot put a remote image, a link or a line that looks
 * like the hover's own into it.
 */
import type { CoiFile, Diagnostic, InputDecl, ModelDecl, Span, StepDecl } from '../syntax/ast';
import type { Chain } from '../chain/model';
import { allSteps, spanTouches } from '../syntax/visit';
import { analyzeChain, profileSteps, type ComposabilityOptions, type StepComposability } from '../composability';
import { analyzeInstruction } from '../composability/infer';
import { contractSummary } from './outline';
import { finalOutputAt, occurrencesAt, type SymbolDefinition, type SymbolIndex } from './symbols';
import { CONTRACT_DOCS, MATCHER_DOCS, MODEL_PROPERTY_DOCS } from './vocabulary';
import { fenced, inlineCode, markdownEscape } from '../records/markdown';

export interface HoverResult {
  readonly markdown: string;
  readonly span: Span;
}

/** What the checker knows (optional: hover still works on a bare parse). */
export interface HoverSemantics {
  /** The check's diagnostics (composability verdicts are read from them when `composability` is not given). */
  readonly diagnostics?: readonly Diagnostic[];
  /** The checked chain: resolved input bindings, declarations. */
  readonly chain?: Chain;
  /**
   * The composability settings the check ran with. With `chain`, a step's verdicts come from
   * the analysis itself: the check's list is capped, and a file with more problems than it
   * keeps may have left them out.
   */
  readonly composability?: ComposabilityOptions;
  /** The problems at the cursor that the check's capped list does not show (core/check `problemsAt`). */
  readonly notShown?: readonly Diagnostic[];
}

/** Diagnostic codes of the static composability analysis (COI3xx). */
const isComposability = (d: Diagnostic): boolean => /^COI3\d\d$/.test(d.code);

export function hoverAt(file: CoiFile, index: SymbolIndex, offset: number, semantics: HoverSemantics = {}): HoverResult | undefined {
  const hover = symbolHover(file, index, offset, semantics);
  const notShown = semantics.notShown ?? [];
  if (notShown.length === 0) return hover;
  const problems = [
    `**Not in the Problems list** — this file has more problems than are shown, and ${notShown.length === 1 ? 'this one was' : 'these were'} left out:`,
    ...notShown.map((d) => `- ${d.severity} ${d.code}: ${markdownEscape(d.message)}`),
  ].join('\n');
  const first = notShown[0] as Diagnostic;
  return hover ? { markdown: `${hover.markdown}\n\n---\n\n${problems}`, span: hover.span } : { markdown: problems, span: first.span };
}

function symbolHover(file: CoiFile, index: SymbolIndex, offset: number, semantics: HoverSemantics): HoverResult | undefined {
  const step = file.declarations.find((d): d is StepDecl => d.kind === 'step' && (spanTouches(d.keyword, offset) || (d.id !== undefined && spanTouches(d.id.span, offset))));
  // The span is the word hovered (LSP clients expect it to contain the position).
  if (step) return { markdown: stepHover(file, index, step, semantics), span: step.id && spanTouches(step.id.span, offset) ? step.id.span : step.keyword };
  const occ = occurrencesAt(index, offset);
  if (occ?.definition) return { markdown: summaryOf(file, index, occ.definition, semantics), span: occ.spanAtCursor };
  if (occ) return { markdown: `${inlineCode(occ.name)} is not defined in this file.`, span: occ.spanAtCursor };
  const final = finalOutputAt(file, index, offset);
  if (final?.step.declaration.kind === 'step') {
    return { markdown: `**${inlineCode('output')}** — the chain's final output: the output of its last step.\n\n---\n\n${stepHover(file, index, final.step.declaration, semantics)}`, span: final.span };
  }
  return wordHover(file, offset);
}

function stepHover(file: CoiFile, index: SymbolIndex, step: StepDecl, semantics: HoverSemantics): string {
  const steps = allSteps(file);
  const position = steps.indexOf(step);
  const lines = [`**step ${inlineCode(step.id?.name ?? '?')}** — step ${position + 1} of ${steps.length}`, ''];
  lines.push(`**Reads:** ${sourcesOf(file, index, step, steps).join(', ') || 'nothing (no chain input is declared)'}`);
  const profile = semantics.chain ? profileSteps(semantics.chain).find((p) => p.step.id === step.id?.name) : undefined;
  const task = profile ? taskOfProfile(profile) : taskOf(step);
  if (task) lines.push(`**Task:** ${markdownEscape(task)}`);
  lines.push(`**Output:** ${inlineCode(contractSummary(step.output?.contract))}${step.output?.contract ? '' : ' (default)'}`);
  const verdicts = composabilityVerdicts(semantics)?.filter((d) => d.span.start >= step.span.start && d.span.end <= step.span.end);
  if (verdicts === undefined) {
    // Not checked yet: say nothing rather than something wrong.
  } else if (semantics.composability?.enable === false) {
    lines.push('**Composability:** not checked (the analysis is turned off)');
  } else if (verdicts.length === 0) {
    lines.push('**Composability:** ✓ its input composes with this step');
  } else {
    lines.push(`**Composability:**`);
    for (const d of verdicts) lines.push(`- ${d.severity === 'error' ? '✗' : '⚠'} ${markdownEscape(d.message)} (${d.code})`);
  }
  const instruction = step.instruction?.text?.value;
  if (instruction) lines.push('', '---', '', instructionBlock(instruction));
  // A hard line break after each field line (Markdown joins plain lines into one paragraph).
  return lines.map((l, i) => (l.startsWith('**') && !lines[i + 1]?.startsWith('-') ? `${l}  ` : l)).join('\n');
}

/** The composability diagnostics of the chain: from the analysis when its settings are known, else from the check's list. */
function composabilityVerdicts(semantics: HoverSemantics): Diagnostic[] | undefined {
  if (semantics.chain && semantics.composability) {
    const found: Diagnostic[] = [];
    analyzeChain(semantics.chain, semantics.composability, found);
    return found;
  }
  return semantics.diagnostics?.filter(isComposability);
}

/** The resolved input binding: `from` as written, else the previous step or the first input. */
function sourcesOf(file: CoiFile, index: SymbolIndex, step: StepDecl, steps: readonly StepDecl[]): string[] {
  if (step.from && step.from.refs.length > 0) {
    return step.from.refs.map((ref) => {
      const def = index.steps.get(ref.name) ?? index.inputs.get(ref.name);
      return def ? describeSource(def) : `${inlineCode(ref.name)} (undefined)`;
    });
  }
  const previous = steps[steps.indexOf(step) - 1];
  if (previous?.id) return [`the output of step ${inlineCode(previous.id.name)} (previous step, → ${inlineCode(contractSummary(previous.output?.contract))})`];
  const firstInput = file.declarations.find((d): d is InputDecl => d.kind === 'input' && d.name !== undefined);
  return firstInput?.name ? [`chain input ${inlineCode(firstInput.name.name)} (${inlineCode(contractSummary(firstInput.contract))}, the first input)`] : [];
}

/** What the composability analysis concluded (declarations over inference). */
function taskOfProfile(profile: StepComposability): string {
  const { endpoint, step } = profile;
  const declared = step.declaredTask !== undefined;
  const category = `${endpoint.category.replace(/_/g, ' ')} (${declared ? 'declared' : 'inferred'})`;
  const consumes = `${endpoint.consumes}${step.declaredNeeds !== undefined ? ' (declared)' : ''}`;
  const produces = `${endpoint.produces}${step.contractDeclared ? ' (contract)' : ''}`;
  const language = endpoint.language ? `, in ${endpoint.language}` : '';
  return `${category} — consumes ${consumes}, produces ${produces}${language}`;
}

function describeSource(def: SymbolDefinition): string {
  if (def.kind === 'input') return `chain input ${inlineCode(def.name)} (${inlineCode(contractSummary((def.declaration as InputDecl).contract))})`;
  return `the output of step ${inlineCode(def.name)} (→ ${inlineCode(contractSummary((def.declaration as StepDecl).output?.contract))})`;
}

function taskOf(step: StepDecl): string | undefined {
  const declared = step.properties.find((p) => p.key.name === 'task')?.values[0];
  const needs = step.properties.find((p) => p.key.name === 'needs')?.values[0];
  const text = step.instruction?.text?.value;
  const inferred = text ? analyzeInstruction(text) : undefined;
  const category = declared && 'value' in declared ? `${String(declared.value)} (declared)` : inferred ? `${inferred.category.replace(/_/g, ' ')} (inferred)` : undefined;
  if (!category) return undefined;
  const consumes = needs && 'value' in needs ? `${String(needs.value)} (declared)` : inferred?.consumes;
  const language = inferred?.outputLanguage ? `, in ${inferred.outputLanguage}` : '';
  return `${category} — consumes ${consumes ?? 'any'}, produces ${inferred?.produces ?? 'text'}${language}`;
}

function summaryOf(file: CoiFile, index: SymbolIndex, def: SymbolDefinition, semantics: HoverSemantics): string {
  switch (def.kind) {
    case 'step':
      return stepHover(file, index, def.declaration as StepDecl, semantics);
    case 'input': {
      const decl = def.declaration as InputDecl;
      return `**input ${inlineCode(def.name)}**: ${inlineCode(contractSummary(decl.contract))}`;
    }
    case 'profile': {
      const decl = def.declaration as ModelDecl;
      const props = decl.properties.map((p) => `${p.key.name} ${p.values.map((v) => (v.kind === 'number' ? v.raw : v.kind === 'word' ? v.value : 'value' in v ? JSON.stringify(v.value) : '[…]')).join(' ')}`);
      const isDefault = file.declarations.find((d) => d.kind === 'model') === decl;
      return [`**model profile ${inlineCode(def.name)}**${isDefault ? ' (the default)' : ''}`, '', fenced(props.join('\n'), 'coi')].join('\n');
    }
  }
}

function wordHover(file: CoiFile, offset: number): HoverResult | undefined {
  for (const decl of file.declarations) {
    if (decl.span.start > offset || decl.span.end < offset) continue;
    const contracts = decl.kind === 'input' ? [decl.contract] : decl.kind === 'step' ? [decl.output?.contract] : [];
    for (const c of contracts) {
      if (c?.contractKind && spanTouches(c.kindName.span, offset)) return { markdown: `**${c.contractKind}** contract — ${CONTRACT_DOCS[c.contractKind]}`, span: c.kindName.span };
    }
    if (decl.kind === 'model') {
      // A profile key: what it sets (our own words; the key is one the checker knows).
      const property = decl.properties.find((p) => spanTouches(p.key.span, offset) && Object.hasOwn(MODEL_PROPERTY_DOCS, p.key.name));
      if (property) return { markdown: `**${property.key.name}** — ${MODEL_PROPERTY_DOCS[property.key.name as keyof typeof MODEL_PROPERTY_DOCS]}`, span: property.key.span };
    }
    if (decl.kind === 'test') {
      for (const e of decl.expects) {
        if (e.matcher && e.matcherName && spanTouches(e.matcherName.span, offset)) return { markdown: `**${e.matcher}** — ${MATCHER_DOCS[e.matcher]}`, span: e.matcherName.span };
      }
    }
  }
  return undefined;
}

/** Instruction lines a step's hover shows. */
const INSTRUCTION_LINES = 8;

/** The instruction's first lines, as written, in a code fence (the file's text is never Markdown here). */
function instructionBlock(text: string): string {
  const lines = text.split(/\r?\n/);
  const shown = fenced(lines.slice(0, INSTRUCTION_LINES).join('\n'));
  const more = lines.length - INSTRUCTION_LINES;
  return more > 0 ? `${shown}\n*… ${more} more line${more === 1 ? '' : 's'}*` : shown;
}
