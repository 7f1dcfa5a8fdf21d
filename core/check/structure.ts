/**
 * Whole-chain structural checks that need every binding resolved: unused
 * chain inputs, unused steps, a chain without steps.
 */
import type { Chain } from '../chain/model';
import type { CoiFile } from '../syntax/ast';
import type { DiagnosticSink } from '../syntax/diagnosticCap';
import { diagnostic } from '../diagnostics/codes';
import { inputsNeeded } from '../chain/generated';

export function checkStructure(file: CoiFile, chain: Chain, out: DiagnosticSink): void {
  // The inputs a whole run needs (the rule of core/chain/generated.ts): the others are unused.
  const readInputs = new Set(inputsNeeded(chain).map((input) => input.name));
  const readSteps = new Set<string>();
  for (const step of chain.steps) {
    for (const source of step.sources) if (source.kind === 'step') readSteps.add(source.id);
  }
  // The declarations the chain took its inputs from (a duplicate's is not among them). A set,
  // not a search of chain.inputs per declaration: a file of 100k inputs took seconds.
  const declaredInputs = new Set(chain.inputs.map((input) => input.span));
  for (const decl of file.declarations) {
    if (decl.kind !== 'input' || !decl.name) continue;
    const name = decl.name.name;
    if (readInputs.has(name) || !declaredInputs.has(decl.span)) continue;
    const hint = chain.steps.length > 0 ? ` The first step reads the first input by default; others need \`from ${name}\`.` : '';
    out.push(diagnostic('COI207', decl.name.span, `Chain input '${name}' is never read by any step.${hint}`, { unnecessary: true, data: { input: name } }));
  }
  const last = chain.steps[chain.steps.length - 1];
  for (const step of chain.steps) {
    if (step === last || readSteps.has(step.id)) continue;
    out.push(
      diagnostic(
        'COI208',
        step.headerSpan,
        `The output of step "${step.id}" is never used: no later step reads it and it is not the last step.`,
        { unnecessary: true },
      ),
    );
  }
  if (chain.steps.length === 0) {
    const chainDecl = file.declarations.find((d) => d.kind === 'chain');
    if (chainDecl) out.push(diagnostic('COI222', chainDecl.keyword, 'The chain has no steps: add a `step ID { instruction "..." }`.'));
  }
}
