/**
 * Static composability analysis of a chain (DESIGN section 4): infer what each
 * step consumes and produces (lexicon + declarations), then check every edge
 * source → consumer, explicit `from` edges included. Declarations win over
 * inference: an output contract fixes what a step produces, `task` sets the
 * category, `needs` what it consumes.
 */
import type { Chain, ChainInput, ChainStep, Contract } from '../chain/model';
import type { Diagnostic, Span } from '../syntax/ast';
import type { DiagnosticSink } from '../syntax/diagnosticCap';
import { capitalize, checkEdge, givesText, type EdgeFinding, type EdgeFindingKind, type Endpoint } from './edges';
import { analyzeInstruction, type InstructionAnalysis } from './infer';
import { CATEGORIES, type InputKind, type OutputKind, type TaskCategory } from '../lexicon/lexicon';

export { analyzeInstruction, type InstructionAnalysis } from './infer';
export { analyzeEdge, checkEdge, type EdgeAnalysis, type EdgeFinding, type Endpoint } from './edges';

/** Which composability warnings to report (errors are always reported while the analysis is on). */
export interface ComposabilityWarnings {
  readonly languageMismatch?: boolean;
  readonly listToItem?: boolean;
  readonly jsonToText?: boolean;
  readonly classificationNotLast?: boolean;
  /** Free text fed to a step that needs JSON or code. */
  readonly structuredInput?: boolean;
}

export interface ComposabilityOptions {
  /** Default true. */
  readonly enable?: boolean;
  /** Each warning kind defaults to on. */
  readonly warnings?: ComposabilityWarnings;
}

const WARNING_SETTING: Readonly<Record<EdgeFindingKind, keyof ComposabilityWarnings | undefined>> = {
  'passage-needed': undefined,
  'language-mismatch': 'languageMismatch',
  'list-to-item': 'listToItem',
  'json-to-text': 'jsonToText',
  'classifier-not-last': 'classificationNotLast',
  'structured-needed': 'structuredInput',
};

/** What the analysis concluded about one step (also shown in hovers). */
export interface StepComposability {
  readonly step: ChainStep;
  readonly analysis: InstructionAnalysis;
  readonly endpoint: Endpoint;
}

function outputOfContract(contract: Contract): OutputKind {
  switch (contract.kind) {
    case 'text':
      return 'passage';
    default:
      return contract.kind;
  }
}

function inputEndpoint(input: ChainInput): Endpoint {
  const contract = input.contract;
  return {
    display: `input "${input.name}"`,
    isInput: true,
    category: 'unknown',
    consumes: 'any',
    produces: outputOfContract(contract),
    producesDeclared: true,
    ...(contract.kind === 'label' ? { labels: contract.labels } : {}),
    ...(contract.kind === 'text' && contract.lang ? { language: contract.lang } : {}),
  };
}

function stepEndpoint(step: ChainStep, analysis: InstructionAnalysis, upstreamLanguage: string | undefined): Endpoint {
  const declaredTask = step.declaredTask as TaskCategory | undefined;
  const category: TaskCategory = declaredTask ?? analysis.category;
  const consumes: InputKind = (step.declaredNeeds as InputKind | undefined) ?? (declaredTask ? CATEGORIES[declaredTask].consumes : analysis.consumes);
  const produces: OutputKind = step.contractDeclared
    ? outputOfContract(step.contract)
    : declaredTask && declaredTask !== analysis.category
      ? CATEGORIES[declaredTask].produces
      : analysis.produces;
  const translationTarget = category === 'translation' ? (contractLanguage(step.contract) ?? analysis.outputLanguage) : undefined;
  const language =
    contractLanguage(step.contract) ??
    analysis.outputLanguage ??
    (category === 'translation' ? undefined : (step.declaredNeedsLang ?? analysis.inputLanguage ?? upstreamLanguage));
  const inputLanguage = step.declaredNeedsLang ?? analysis.inputLanguage;
  return {
    display: `step "${step.id}"`,
    isInput: false,
    category,
    consumes,
    produces,
    producesDeclared: step.contractDeclared || declaredTask !== undefined,
    ...(step.contract.kind === 'label' ? { labels: step.contract.labels } : {}),
    ...(language !== undefined ? { language } : {}),
    ...(inputLanguage !== undefined ? { inputLanguage } : {}),
    ...(translationTarget !== undefined ? { translationTarget } : {}),
  };
}

function contractLanguage(contract: Contract): string | undefined {
  return contract.kind === 'text' ? contract.lang : undefined;
}

/** Every step's inferred and declared profile, in chain order (languages propagate along the chain). */
export function profileSteps(chain: Chain): StepComposability[] {
  const inputs = new Map(chain.inputs.map((input) => [input.name, inputEndpoint(input)]));
  const endpoints = new Map<string, Endpoint>();
  const profiles: StepComposability[] = [];
  for (const step of chain.steps) {
    const analysis = analyzeInstruction(step.instruction);
    const primary = step.sources[0];
    const upstream = primary ? (primary.kind === 'input' ? inputs.get(primary.name) : endpoints.get(primary.id)) : undefined;
    const upstreamLanguage = upstream && givesText(upstream.produces) ? upstream.language : undefined;
    const endpoint = stepEndpoint(step, analysis, upstreamLanguage);
    endpoints.set(step.id, endpoint);
    profiles.push({ step, analysis, endpoint });
  }
  return profiles;
}

/** The composability diagnostics (COI3xx) of a chain, pushed into `out`. */
export function analyzeChain(chain: Chain, options: ComposabilityOptions, out: DiagnosticSink): void {
  if (options.enable === false) return;
  const inputs = new Map(chain.inputs.map((input) => [input.name, { endpoint: inputEndpoint(input), span: input.span }]));
  const steps = new Map<string, { endpoint: Endpoint; span: Span }>();
  for (const { step, endpoint: consumer } of profileSteps(chain)) {
    const producers = step.sources.map((source) => (source.kind === 'input' ? inputs.get(source.name) : steps.get(source.id)));
    producers.forEach((producer, position) => {
      if (!producer) return;
      const otherSourceGivesText = producers.some((other, j) => j !== position && other !== undefined && givesText(other.endpoint.produces));
      for (const finding of checkEdge(producer.endpoint, consumer, { otherSourceGivesText })) {
        if (!reported(finding, options)) continue;
        out.push(toDiagnostic(finding, step, position, producer, consumer));
      }
    });
    steps.set(step.id, { endpoint: consumer, span: step.headerSpan });
  }
}

function reported(finding: EdgeFinding, options: ComposabilityOptions): boolean {
  const setting = WARNING_SETTING[finding.kind];
  return setting === undefined || options.warnings?.[setting] !== false;
}

function toDiagnostic(finding: EdgeFinding, step: ChainStep, position: number, producer: { endpoint: Endpoint; span: Span }, consumer: Endpoint): Diagnostic {
  const span = step.sourceSpans?.[position] ?? step.headerSpan;
  const source = step.sources[position];
  const sourceName = source ? (source.kind === 'input' ? source.name : source.id) : '';
  return {
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    span,
    related: [{ span: producer.span, message: `${capitalize(producer.endpoint.display)} produces ${describeShort(producer.endpoint)}.` }],
    data: {
      kind: finding.kind,
      producer: sourceName,
      consumer: step.id,
      produces: finding.produces,
      needs: finding.needs,
      consumerCategory: consumer.category,
      ...(finding.producedLanguage ? { producedLanguage: finding.producedLanguage } : {}),
      ...(finding.expectedLanguage ? { expectedLanguage: finding.expectedLanguage } : {}),
    },
  };
}

function describeShort(endpoint: Endpoint): string {
  const language = endpoint.language && givesText(endpoint.produces) ? ` (language ${endpoint.language})` : '';
  return `${endpoint.produces}${language}`;
}
