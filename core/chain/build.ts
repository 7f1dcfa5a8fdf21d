/**
 * Builds the semantic `Chain` (core/chain/model.ts) from a parsed `CoiFile`:
 * resolves input bindings (defaults and `from` references), contracts, model
 * profiles and tests, and reports what cannot be resolved (COI2xx, COI4xx,
 * COI5xx; the codes are in core/check/codes.ts and docs/format.md).
 *
 * Partial files still give a usable chain: what is broken is left out (a step
 * without an id, a profile without its required keys, a bad reference) and
 * the rest is kept. Linear in the size of the file.
 */
import { diagnostic } from '../diagnostics/codes';
import { buildContract, type ContractContext } from './contracts';
import { buildProfile, isSamplingKey, readProfileRef, readSampling, singleValue, SAMPLING_KEYS } from './profiles';
import { closest, didYouMean } from '../diagnostics/suggest';
import { buildTests, FINAL_OUTPUT } from './tests';
import { describeValue } from './values';
import { ISO_639_1_CODES } from '../lexicon/languages';
import { INPUT_KINDS, TASK_CATEGORIES } from '../lexicon/lexicon';
import type { CoiFile, Identifier, InputDecl, ModelDecl, PropertyNode, Span, StepDecl, TestDecl } from '../syntax/ast';
import type { DiagnosticSink } from '../syntax/diagnosticCap';
import { textOf } from '../syntax/visit';
import type { Chain, ChainInput, ChainStep, ModelProfile, SamplingParams, StepSource } from './model';

export type BuildOptions = ContractContext;

const STEP_KEYS: readonly string[] = ['instruction', 'from', 'output', 'model', 'task', 'needs', ...SAMPLING_KEYS];

/** `needs` words accepted besides the input kinds themselves. */
const NEEDS_ALIASES: ReadonlyMap<string, string> = new Map([
  ['text', 'passage'],
  ['sentence', 'item'],
  ['number', 'item'],
  ['boolean', 'label'],
]);

import type { Mutable } from '../syntax/mutable';

/** What a step or input id stands for while resolving references. */
interface Definition {
  readonly kind: 'input' | 'step';
  readonly name: Identifier;
  /** Declaration order among steps (steps only). */
  readonly stepIndex?: number;
}

/** The chain a file declares; its structure problems go to `out`. */
export function buildChain(file: CoiFile, options: BuildOptions, out: DiagnosticSink): Chain {
  const modelDecls: ModelDecl[] = [];
  const inputDecls: InputDecl[] = [];
  const stepDecls: StepDecl[] = [];
  const testDecls: TestDecl[] = [];
  let name = '';
  let description: string | undefined;
  let chainKeyword: Span | undefined;
  let descriptionKeyword: Span | undefined;

  for (const decl of file.declarations) {
    switch (decl.kind) {
      case 'chain':
        if (chainKeyword) {
          out.push(
            diagnostic('COI202', decl.keyword, 'A file declares one chain; this second `chain` is ignored.', {
              related: [{ span: chainKeyword, message: 'The chain is declared here.' }],
            }),
          );
        } else {
          chainKeyword = decl.keyword;
          if (decl.name) name = decl.name.kind === 'identifier' ? decl.name.name : decl.name.value;
        }
        break;
      case 'description':
        if (descriptionKeyword) {
          out.push(
            diagnostic('COI202', decl.keyword, 'The chain already has a description; this one is ignored.', {
              related: [{ span: descriptionKeyword, message: 'The description is given here.' }],
            }),
          );
        } else {
          descriptionKeyword = decl.keyword;
          if (decl.text) description = decl.text.value;
        }
        break;
      case 'model':
        modelDecls.push(decl);
        break;
      case 'input':
        inputDecls.push(decl);
        break;
      case 'step':
        stepDecls.push(decl);
        break;
      case 'test':
        testDecls.push(decl);
        break;
    }
  }
  if (!chainKeyword) {
    const first = file.declarations[0];
    const span = first ? first.keyword : { start: 0, end: 0 };
    out.push(diagnostic('COI201', span, 'The file has no `chain NAME` declaration.', { data: { insert: 'chain my_chain\n' } }));
  }

  const { profiles, declaredProfiles } = buildProfiles(modelDecls, out);
  const definitions = new Map<string, Definition>();
  const inputs = buildInputs(inputDecls, definitions, options, out);
  const steps = buildSteps(stepDecls, inputs, definitions, declaredProfiles, options, out);
  const chainWithoutTests: Chain = {
    name,
    ...(description !== undefined ? { description } : {}),
    profiles,
    ...(profiles[0] ? { defaultProfile: profiles[0].name } : {}),
    inputs,
    steps,
    tests: [],
  };
  const tests = buildTests(testDecls, chainWithoutTests, declaredProfiles, out);
  return { ...chainWithoutTests, tests };
}

// ---------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------

function buildProfiles(decls: readonly ModelDecl[], out: DiagnosticSink): { profiles: ModelProfile[]; declaredProfiles: Map<string, Identifier> } {
  const profiles: ModelProfile[] = [];
  const declaredProfiles = new Map<string, Identifier>();
  for (const decl of decls) {
    const id = decl.name;
    if (!id) continue;
    const first = declaredProfiles.get(id.name);
    if (first) {
      out.push(
        diagnostic('COI501', id.span, `Model profile '${id.name}' is declared twice.`, {
          related: [{ span: first.span, message: `'${id.name}' is first declared here.` }],
        }),
      );
      continue;
    }
    declaredProfiles.set(id.name, id);
    const profile = buildProfile({ ...decl, name: id }, out);
    if (profile) profiles.push(profile);
  }
  return { profiles, declaredProfiles };
}

// ---------------------------------------------------------------------------
// Ids (steps and inputs share one namespace: both can be named in `from`)
// ---------------------------------------------------------------------------

/** Registers an id; reports duplicates and the reserved word. Returns false when the declaration must be skipped. */
function define(id: Identifier, definition: Definition, definitions: Map<string, Definition>, out: DiagnosticSink): boolean {
  if (id.name === FINAL_OUTPUT) {
    out.push(
      diagnostic('COI204', id.span, `'${FINAL_OUTPUT}' is reserved: expectations use it for the chain's final output. Choose another ${definition.kind === 'input' ? 'input name' : 'step id'}.`),
    );
    return false;
  }
  const first = definitions.get(id.name);
  if (first) {
    out.push(
      diagnostic(
        'COI203',
        id.span,
        `'${id.name}' is already the id of ${first.kind === 'input' ? 'a chain input' : 'a step'}; steps and inputs share one namespace.`,
        { related: [{ span: first.name.span, message: `'${id.name}' is first declared here.` }] },
      ),
    );
    return false;
  }
  definitions.set(id.name, definition);
  return true;
}

function buildInputs(decls: readonly InputDecl[], definitions: Map<string, Definition>, context: ContractContext, out: DiagnosticSink): ChainInput[] {
  const inputs: ChainInput[] = [];
  for (const decl of decls) {
    const id = decl.name;
    if (!id || !define(id, { kind: 'input', name: id }, definitions, out)) continue;
    const contract = (decl.contract && buildContract(decl.contract, context, out)) ?? { kind: 'text' as const };
    inputs.push({ name: id.name, contract, span: decl.span });
  }
  return inputs;
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

function headerSpan(decl: StepDecl): Span {
  return { start: decl.keyword.start, end: decl.id ? decl.id.span.end : decl.keyword.end };
}

function buildSteps(
  decls: readonly StepDecl[],
  inputs: readonly ChainInput[],
  definitions: Map<string, Definition>,
  declaredProfiles: ReadonlyMap<string, Identifier>,
  context: ContractContext,
  out: DiagnosticSink,
): ChainStep[] {
  // Register every step id first, so a reference to a later step is told apart from an unknown one.
  const accepted: StepDecl[] = [];
  for (const decl of decls) {
    if (decl.id && define(decl.id, { kind: 'step', name: decl.id, stepIndex: accepted.length }, definitions, out)) accepted.push(decl);
  }
  const steps: ChainStep[] = [];
  for (const decl of accepted) {
    steps.push(buildStep(decl, steps, inputs, definitions, declaredProfiles, context, out));
  }
  return steps;
}

function buildStep(
  decl: StepDecl,
  earlier: readonly ChainStep[],
  inputs: readonly ChainInput[],
  definitions: ReadonlyMap<string, Definition>,
  declaredProfiles: ReadonlyMap<string, Identifier>,
  context: ContractContext,
  out: DiagnosticSink,
): ChainStep {
  const id = decl.id as Identifier;
  const index = earlier.length;
  const header = headerSpan(decl);
  reportDuplicateMembers(decl, out);

  const instruction = decl.instruction?.text?.value ?? '';
  if (!decl.instruction) {
    // A step without its block was reported (COI105 "expected '{'"): its instruction is not missing twice.
    if (decl.body) out.push(diagnostic('COI209', header, `Step "${id.name}" has no instruction.`));
  } else if (decl.instruction.text && instruction.trim() === '') {
    out.push(diagnostic('COI209', decl.instruction.text.span, `The instruction of step "${id.name}" is empty.`));
  }

  const explicit = decl.from ? resolveFrom(decl, index, definitions, out) : undefined;
  const sources: StepSource[] = explicit && explicit.sources.length > 0 ? explicit.sources : defaultSources(index, earlier, inputs);

  const contractNode = decl.output?.contract;
  const contract = contractNode ? buildContract(contractNode, context, out) : undefined;
  if (!decl.output && decl.body) {
    out.push(
      diagnostic('COI210', header, `Step "${id.name}" declares no output contract; it is treated as free text. Declaring one (text, label, list, json, number, boolean, code) lets the runner validate the output.`),
    );
  }

  const step: Mutable<ChainStep> = {
    id: id.name,
    index,
    instruction,
    sources,
    contract: contract ?? { kind: 'text' },
    contractDeclared: contract !== undefined,
    sampling: {},
    span: decl.span,
    headerSpan: header,
  };
  if (explicit && explicit.sources.length > 0) step.sourceSpans = explicit.spans;
  readStepProperties(decl, step, declaredProfiles, out);
  return step;
}

/** Step k reads the previous step; the first step reads the first chain input (or nothing). */
function defaultSources(index: number, earlier: readonly ChainStep[], inputs: readonly ChainInput[]): StepSource[] {
  const previous = earlier[index - 1];
  if (previous) return [{ kind: 'step', id: previous.id }];
  const first = inputs[0];
  return first ? [{ kind: 'input', name: first.name }] : [];
}

function resolveFrom(
  decl: StepDecl,
  index: number,
  definitions: ReadonlyMap<string, Definition>,
  out: DiagnosticSink,
): { sources: StepSource[]; spans: Span[] } {
  const sources: StepSource[] = [];
  const spans: Span[] = [];
  const seen = new Set<string>();
  const self = (decl.id as Identifier).name;
  for (const ref of decl.from?.refs ?? []) {
    if (seen.has(ref.name)) {
      out.push(diagnostic('COI223', ref.span, `'${ref.name}' is already listed in this 'from'.`, { unnecessary: true }));
      continue;
    }
    seen.add(ref.name);
    const target = definitions.get(ref.name);
    if (!target) {
      const candidates = [...definitions.values()].filter((d) => d.kind === 'input' || (d.stepIndex ?? 0) < index).map((d) => d.name.name);
      const suggestion = closest(ref.name, candidates);
      out.push(
        diagnostic('COI205', ref.span, `Unknown reference '${ref.name}': no chain input or earlier step has this id.${didYouMean(suggestion)}`, {
          ...(suggestion ? { data: { suggestion } } : {}),
        }),
      );
      continue;
    }
    if (target.kind === 'input') {
      sources.push({ kind: 'input', name: ref.name });
      spans.push(ref.span);
      continue;
    }
    const targetIndex = target.stepIndex ?? 0;
    if (ref.name === self || targetIndex >= index) {
      const message =
        ref.name === self
          ? `Step "${self}" cannot read its own output.`
          : `Step "${self}" reads step "${ref.name}", which comes later in the chain: a step can read only chain inputs and earlier steps.`;
      out.push(
        diagnostic('COI206', ref.span, message, {
          related: [{ span: target.name.span, message: `Step "${ref.name}" is declared here.` }],
        }),
      );
      continue;
    }
    sources.push({ kind: 'step', id: ref.name });
    spans.push(ref.span);
  }
  return { sources, spans };
}

/** A second `instruction`, `from` or `output` in a step is ignored by the parser: say so. */
function reportDuplicateMembers(decl: StepDecl, out: DiagnosticSink): void {
  const seen = new Map<string, Span>();
  for (const member of decl.members) {
    const key = member.kind === 'property' ? member.key.name : member.kind;
    const span = member.kind === 'property' ? member.key.span : member.keyword;
    const first = seen.get(key);
    if (first) {
      out.push(
        diagnostic('COI220', member.span, `'${key}' is given twice in step "${decl.id?.name ?? '?'}"; the first one counts.`, {
          unnecessary: true,
          related: [{ span: first, message: `The first '${key}' is here.` }],
        }),
      );
    } else {
      seen.set(key, span);
    }
  }
}

function readStepProperties(decl: StepDecl, step: Mutable<ChainStep>, declaredProfiles: ReadonlyMap<string, Identifier>, out: DiagnosticSink): void {
  const sampling: Mutable<SamplingParams> = {};
  const seen = new Set<string>();
  for (const property of decl.properties) {
    const key = property.key.name;
    if (seen.has(key)) continue; // reported as COI220
    seen.add(key);
    if (isSamplingKey(key)) {
      readSampling(property, sampling, out);
      continue;
    }
    switch (key) {
      case 'model': {
        const profile = readProfileRef(property, declaredProfiles, out);
        if (profile !== undefined) step.profile = profile;
        break;
      }
      case 'task':
        readTask(property, step, out);
        break;
      case 'needs':
        readNeeds(property, step, out);
        break;
      default: {
        const suggestion = closest(key, STEP_KEYS);
        out.push(
          diagnostic('COI219', property.key.span, `Unknown step property '${key}'; a step takes ${STEP_KEYS.join(', ')}.${didYouMean(suggestion)}`, {
            ...(suggestion ? { data: { suggestion } } : {}),
          }),
        );
      }
    }
  }
  step.sampling = sampling;
}

function readTask(property: PropertyNode, step: Mutable<ChainStep>, out: DiagnosticSink): void {
  const value = singleValue(property, out, 'COI221');
  if (!value) return;
  const text = textOf(value);
  if (text !== undefined && (TASK_CATEGORIES as readonly string[]).includes(text)) {
    step.declaredTask = text;
    return;
  }
  const suggestion = text !== undefined ? closest(text, TASK_CATEGORIES) : undefined;
  out.push(
    diagnostic('COI221', value.span, `Unknown task category ${describeValue(value)}; expected one of ${TASK_CATEGORIES.join(', ')}.${didYouMean(suggestion)}`, {
      ...(suggestion ? { data: { suggestion } } : {}),
    }),
  );
}

/** `needs KIND [LANG]`: what the step consumes, and optionally in which language. */
function readNeeds(property: PropertyNode, step: Mutable<ChainStep>, out: DiagnosticSink): void {
  const [kindValue, langValue, extra] = property.values;
  if (!kindValue) {
    out.push(diagnostic('COI221', property.key.span, `'needs' takes what the step consumes: ${INPUT_KINDS.join(', ')}.`));
    return;
  }
  const text = textOf(kindValue);
  const kind = text !== undefined ? ((INPUT_KINDS as readonly string[]).includes(text) ? text : NEEDS_ALIASES.get(text)) : undefined;
  if (kind === undefined) {
    const suggestion = text !== undefined ? closest(text, INPUT_KINDS) : undefined;
    out.push(
      diagnostic('COI221', kindValue.span, `Unknown input kind ${describeValue(kindValue)} for 'needs'; expected one of ${INPUT_KINDS.join(', ')}.${didYouMean(suggestion)}`, {
        ...(suggestion ? { data: { suggestion } } : {}),
      }),
    );
  } else {
    step.declaredNeeds = kind;
  }
  if (langValue) {
    const lang = textOf(langValue);
    if (lang !== undefined && ISO_639_1_CODES.has(lang)) step.declaredNeedsLang = lang;
    else out.push(diagnostic('COI221', langValue.span, `The language after 'needs ${text ?? ''}' must be an ISO 639-1 code (such as en), not ${describeValue(langValue)}.`));
  }
  if (extra) out.push(diagnostic('COI221', extra.span, "'needs' takes a kind and an optional language code, nothing more."));
}
