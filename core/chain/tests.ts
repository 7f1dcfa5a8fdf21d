/**
 * `test` blocks: from the syntax tree to `ChainTest`s, with the COI4xx
 * diagnostics (unknown inputs and targets, missing values, expectations that
 * cannot match their step's contract).
 */
import type { Chain, ChainInput, ChainTest, Contract, Expectation } from './model';
import type { MatcherKind } from '../syntax/ast';
import type { DiagnosticSink } from '../syntax/diagnosticCap';
import { MATCHERS, type ExpectNode, type GivenNode, type Identifier, type Span, type TestDecl, type Value } from '../syntax/ast';
import { testName } from '../syntax/visit';
import { diagnostic, type DiagnosticData } from '../diagnostics/codes';
import { readProfileRef } from './profiles';
import { closest, didYouMean } from '../diagnostics/suggest';
import { scalarText } from './values';
import { booleanValue, equalsMatches, jsonValue, labelMatches, numberValue } from './matching';
import { checkedSchema } from './contracts';
import { checkJsonSchema } from './jsonSchema';
import { readInputValue } from './inputValue';
import { placeholderValue } from './placeholders';
import { inputsNeeded } from './generated';

/** The word expectations use for the chain's final output (`expect output ...`); no step or input may take it. */
export const FINAL_OUTPUT = 'output';

import type { Mutable } from '../syntax/mutable';

function testHeader(decl: TestDecl): Span {
  return { start: decl.keyword.start, end: decl.name ? decl.name.span.end : decl.keyword.end };
}

export function buildTests(decls: readonly TestDecl[], chain: Chain, declaredProfiles: ReadonlyMap<string, Identifier>, out: DiagnosticSink): ChainTest[] {
  const tests: ChainTest[] = [];
  const names = new Map<string, Span>();
  const contracts = new Map<string, Contract>(chain.steps.map((step) => [step.id, step.contract]));
  const lastStep = chain.steps[chain.steps.length - 1];
  if (lastStep) contracts.set(FINAL_OUTPUT, lastStep.contract);
  // A test runs the whole chain: it needs the inputs a run of every step needs (the run's rule,
  // inputsNeeded), not one that no step reads (COI207 says that input is unused). Once per file.
  const needed = inputsNeeded(chain);
  for (const decl of decls) {
    const name = testName(decl);
    if (name === undefined) continue;
    const first = names.get(name);
    if (first) {
      out.push(
        diagnostic('COI401', decl.name?.span ?? decl.keyword, `Test ${JSON.stringify(name)} is declared twice; test names must be unique.`, {
          related: [{ span: first, message: 'The first test with this name.' }],
        }),
      );
      continue;
    }
    names.set(name, decl.name?.span ?? decl.keyword);
    tests.push(buildTest(decl, name, chain, needed, contracts, declaredProfiles, out));
  }
  return tests;
}

function buildTest(
  decl: TestDecl,
  name: string,
  chain: Chain,
  needed: readonly ChainInput[],
  contracts: ReadonlyMap<string, Contract>,
  declaredProfiles: ReadonlyMap<string, Identifier>,
  out: DiagnosticSink,
): ChainTest {
  const inputs = readGivens(decl, chain.inputs, needed, out);
  const expectations: Expectation[] = [];
  for (const node of decl.expects) {
    const expectation = readExpect(node, chain, contracts, out);
    if (expectation) expectations.push(expectation);
  }
  if (decl.expects.length === 0 && decl.body) {
    out.push(diagnostic('COI413', testHeader(decl), `Test ${JSON.stringify(name)} has no expectations: it only checks that the chain runs.`));
  }
  const test: Mutable<ChainTest> = { name, inputs, expectations, span: decl.span };
  for (const property of decl.properties) {
    if (property.key.name === 'model') {
      const profile = readProfileRef(property, declaredProfiles, out);
      if (profile !== undefined && test.profile === undefined) test.profile = profile;
      continue;
    }
    out.push(diagnostic('COI411', property.key.span, `Unknown test property '${property.key.name}'; a test takes given, expect and model.${didYouMean(closest(property.key.name, ['given', 'expect', 'model']))}`));
  }
  return test;
}

// ---------------------------------------------------------------------------
// given
// ---------------------------------------------------------------------------

/** `needed`: the inputs a test must give (inputsNeeded); a value for any other chain input is read too. */
function readGivens(decl: TestDecl, chainInputs: readonly ChainInput[], needed: readonly ChainInput[], out: DiagnosticSink): Record<string, string> {
  const values = new Map<string, string>();
  const given = new Map<string, Span>();
  const byName = new Map(chainInputs.map((input) => [input.name, input]));
  for (const node of decl.givens) {
    const id = node.name;
    if (!id) continue;
    const input = byName.get(id.name);
    if (!input) {
      // An input another line of this test gives is no suggestion: taking it would give it twice (COI404).
      const givenElsewhere = new Set(decl.givens.filter((other) => other !== node).map((other) => other.name?.name));
      const suggestion = closest(id.name, [...byName.keys()].filter((name) => !givenElsewhere.has(name)));
      const known = byName.size > 0 ? ` The chain's inputs: ${[...byName.keys()].join(', ')}.` : ' The chain declares no inputs.';
      out.push(
        diagnostic('COI402', id.span, `'${id.name}' is not a chain input.${didYouMean(suggestion) || known}`, {
          ...(suggestion ? { data: { suggestion } } : {}),
        }),
      );
      continue;
    }
    const first = given.get(id.name);
    if (first) {
      out.push(
        diagnostic('COI404', node.span, `Input '${id.name}' is given twice in this test; the first value counts.`, {
          unnecessary: true,
          related: [{ span: first, message: 'The first value.' }],
        }),
      );
      continue;
    }
    given.set(id.name, id.span);
    if (!node.value) continue;
    const text = givenText(node.value);
    checkGivenAgainstContract(node, node.value, text, input.contract, out);
    values.set(id.name, text);
  }
  const missingInputs = needed.filter((input) => !given.has(input.name));
  // A test without its block was reported (COI105 "expected '{'"): its givens are not missing twice.
  if (missingInputs.length > 0 && decl.body) {
    const missing = missingInputs.map((input) => input.name);
    const list = missing.map((m) => `'${m}'`).join(', ');
    // The fix's values are made here, where a schema_file has been read.
    const values = missingInputs.map((input) => placeholderValue(input.contract, checkedSchema(input.contract)));
    out.push(
      diagnostic('COI403', testHeader(decl), `Test ${JSON.stringify(testName(decl) ?? '')} gives no value for chain input${missing.length > 1 ? 's' : ''} ${list}.`, {
        data: { missing, values },
      }),
    );
  }
  // fromEntries defines own properties, so even an input named `__proto__` is kept.
  return Object.fromEntries(values);
}

/** A given value as the text the runner feeds in (lists as JSON arrays). */
function givenText(value: Value): string {
  const scalar = scalarText(value);
  if (scalar !== undefined) return scalar;
  return JSON.stringify(value.kind === 'list' ? value.items.map((item) => scalarText(item) ?? '') : []);
}

function checkGivenAgainstContract(node: GivenNode, value: Value, text: string, contract: Contract, out: DiagnosticSink): void {
  const name = node.name?.name ?? '';
  // A list written for a text or code input is a slip of the syntax, not a value to read.
  if (value.kind === 'list' && (contract.kind === 'text' || contract.kind === 'code')) {
    out.push(diagnostic('COI412', value.span, `Input '${name}' is ${contract.kind}, not a list.`));
    return;
  }
  // Read as the run reads it (a schema that does not compile is reported on the contract), its
  // patterns run in linear time: the file's own patterns must not hang the check (jsonSchema.ts).
  const read = readInputValue(contract, text, name, checkedSchema(contract), 'linear');
  if (read.ok) return;
  out.push(diagnostic('COI412', value.span, `Input '${name}' ${read.problem}.`, contract.kind === 'label' ? labelData(text, contract.labels) : {}));
}

function labelData(text: string, labels: readonly string[]): { data: DiagnosticData } {
  const suggestion = closest(text, labels);
  return suggestion ? { data: { suggestion, labels } } : { data: { labels } };
}

// ---------------------------------------------------------------------------
// expect
// ---------------------------------------------------------------------------

function readExpect(node: ExpectNode, chain: Chain, contracts: ReadonlyMap<string, Contract>, out: DiagnosticSink): Expectation | undefined {
  const target = node.target;
  if (!target || !node.matcherName) return undefined; // syntax error, reported by the parser
  let ok = true;
  const contract = contracts.get(target.name);
  if (!contract) {
    ok = false;
    reportUnknownTarget(target, chain, out);
  }
  const matcher = node.matcher;
  if (!matcher) {
    const suggestion = closest(node.matcherName.name, MATCHERS);
    out.push(
      diagnostic('COI406', node.matcherName.span, `Unknown matcher '${node.matcherName.name}'; expected one of ${MATCHERS.join(', ')}.${didYouMean(suggestion)}`, {
        ...(suggestion ? { data: { suggestion } } : {}),
      }),
    );
    return undefined;
  }
  for (const option of node.options) {
    out.push(diagnostic('COI411', option.key.span, `Expectations take no options ('${option.key.name}=' is not understood).`));
  }
  if (node.threshold && matcher !== 'rouge_l') {
    out.push(diagnostic('COI407', node.threshold.span, `'>=' goes with rouge_l only, not with '${matcher}'.`));
  }
  const expectation = readMatcherValue(node, matcher, out);
  if (!expectation) return undefined;
  if (contract) checkAgainstContract(node, expectation, target.name, contract, out);
  return ok ? expectation : undefined;
}

function reportUnknownTarget(target: Identifier, chain: Chain, out: DiagnosticSink): void {
  const stepIds = chain.steps.map((step) => step.id);
  if (target.name === FINAL_OUTPUT) {
    out.push(diagnostic('COI405', target.span, "The chain has no steps, so it has no final output to check."));
    return;
  }
  if (chain.inputs.some((input) => input.name === target.name)) {
    out.push(diagnostic('COI405', target.span, `'${target.name}' is a chain input; expectations check step outputs (a step id) or the final output ('output').`));
    return;
  }
  const suggestion = closest(target.name, [...stepIds, FINAL_OUTPUT]);
  const hint = chain.steps.length === 0 ? ' The chain has no steps.' : '';
  out.push(
    diagnostic('COI405', target.span, `Unknown expectation target '${target.name}': expected a step id or 'output'.${didYouMean(suggestion)}${hint}`, {
      ...(suggestion ? { data: { suggestion } } : {}),
    }),
  );
}

/** The expectation with its value read per matcher; reports missing or ill-typed values. */
function readMatcherValue(node: ExpectNode, matcher: MatcherKind, out: DiagnosticSink): Expectation | undefined {
  const base = { target: node.target?.name ?? '', matcher, negated: node.negated !== undefined, span: node.span };
  const value = node.value;
  const where = node.matcherName?.span ?? node.span;
  const needsText = (what: string): string | undefined => {
    if (!value) {
      // A value the parser could not read (`equals .5`) was reported where it is: it is not missing as well.
      if (!node.unread) out.push(diagnostic('COI407', where, `'${matcher}' needs ${what}.`));
      return undefined;
    }
    const text = scalarText(value);
    if (text === undefined) out.push(diagnostic('COI407', value.span, `'${matcher}' takes ${what}, not a list.`));
    return text;
  };
  switch (matcher) {
    case 'equals':
    case 'contains':
    case 'judge': {
      const text = needsText(matcher === 'judge' ? 'the criteria to judge by (a string)' : 'a text to compare with');
      return text === undefined ? undefined : { ...base, value: text };
    }
    case 'matches': {
      const text = needsText('a regular expression');
      if (text === undefined) return undefined;
      try {
        new RegExp(text, 'u');
      } catch (error) {
        out.push(diagnostic('COI410', value?.span ?? where, `${(error as Error).message.replace(/\.$/, '')} (the runner compiles it with the 'u' flag).`));
        return undefined;
      }
      return { ...base, value: text };
    }
    case 'label': {
      const text = needsText('a label');
      return text === undefined ? undefined : { ...base, value: text };
    }
    case 'one_of': {
      if (!value || value.kind !== 'list') {
        if (!value && node.unread) return undefined;
        out.push(diagnostic('COI407', value?.span ?? where, "'one_of' takes a list of accepted answers, as in `one_of [positive, neutral]`."));
        return undefined;
      }
      const values = value.items.map((item) => scalarText(item)).filter((item): item is string => item !== undefined);
      return { ...base, values };
    }
    case 'valid_json':
      if (value) out.push(diagnostic('COI407', value.span, "'valid_json' takes no value: it checks that the output parses as JSON (on a json step, against its schema)."));
      return base;
    case 'rouge_l': {
      if (!node.threshold) {
        // A `>=` written with a number the parser could not read (`>= .5`) was reported where it is: one diagnostic for it.
        if (!node.comparison && !node.unread) out.push(diagnostic('COI407', where, "'rouge_l' needs a threshold and a reference, as in `rouge_l >= 0.4 \"reference\"`."));
        return undefined;
      }
      const threshold = node.threshold.value;
      if (threshold < 0 || threshold > 1) {
        // Thresholds written in percent (40 for 0.4) get the fraction as a fix.
        const scaled = Number.isInteger(threshold) && threshold > 1 && threshold <= 100 ? threshold / 100 : undefined;
        const hint = scaled !== undefined ? ` Did you mean ${scaled}?` : '';
        out.push(
          diagnostic('COI409', node.threshold.span, `The ROUGE-L threshold is an F-measure between 0 and 1, not ${node.threshold.raw}.${hint}`, {
            ...(scaled !== undefined ? { data: { suggestion: String(scaled) } } : {}),
          }),
        );
        return undefined;
      }
      const text = needsText('a reference text to compare with');
      return text === undefined ? undefined : { ...base, threshold, value: text };
    }
  }
}

/**
 * Expectations whose verdict the target's contract settles before any run. A value the output
 * can never be makes the plain expectation impossible (COI408, an error: the test can never pass)
 * and its `not` form always true (COI414, a warning: it checks nothing). A matcher that needs
 * another contract (`label`; `valid_json` on a label, number, boolean or list step) is COI408 either
 * way: the matcher does not apply.
 * On a json step `valid_json` checks what the contract already does (an output that is not
 * JSON, or breaks the schema, fails the step): plain it always holds (COI414), negated it never
 * passes (COI408).
 */
function checkAgainstContract(node: ExpectNode, expectation: Expectation, target: string, contract: Contract, out: DiagnosticSink): void {
  const span = node.value?.span ?? node.matcherName?.span ?? node.span;
  const who = target === FINAL_OUTPUT ? 'the final output' : `step "${target}"`;
  const negated = expectation.negated;
  const neverPasses = (message: string): void => {
    out.push(diagnostic('COI408', span, message));
  };
  // `reason` says why the output can never be the value: the plain form cannot pass, the `not` form cannot fail.
  const settled = (reason: string, data?: DiagnosticData, at: Span = span, what = `'not ${expectation.matcher}'`): void => {
    if (!negated) {
      out.push(diagnostic('COI408', at, reason, data ? { data } : {}));
      return;
    }
    // The label set is no fix here (a `not` expectation wants the value excluded); a spelling is.
    const fix = data?.suggestion !== undefined ? { data: { suggestion: data.suggestion } } : {};
    out.push(diagnostic('COI414', at, `${what} always holds: ${lowerFirst(reason)}`, fix));
  };
  switch (expectation.matcher) {
    case 'label':
      if (contract.kind !== 'label') {
        neverPasses(`'label' needs a step with a label contract, but ${who} produces ${contract.kind}.`);
      } else if (expectation.value !== undefined && contract.labels.length > 0 && !isLabel(expectation.value, contract.labels, labelMatches)) {
        reportLabel(expectation.value, contract.labels, who, settled);
      }
      return;
    case 'one_of':
      for (const item of node.value?.kind === 'list' ? node.value.items : []) {
        const text = scalarText(item);
        if (text === undefined) continue;
        // One value the output can never be: with `not`, excluding it is moot, the other values still count.
        const report = (message: string, data?: DiagnosticData): void => settled(message, data, item.span, `Excluding '${text}'`);
        if (contract.kind === 'label' && contract.labels.length > 0 && !isLabel(text, contract.labels, labelMatches)) {
          reportLabel(text, contract.labels, who, report);
        } else if (contract.kind === 'json' && !jsonValue(text.trim().toLowerCase()).ok) {
          // `one_of` compares texts ignoring case, and a JSON text in lower case is still JSON (its
          // words are, its strings stay strings): a value not JSON in lower case is no JSON in any case.
          report(`${capitalize(who)} produces JSON; ${JSON.stringify(text)} is not JSON, so the output can never be it.`);
        }
      }
      return;
    case 'valid_json':
      // On a text or code step it is a real check (the output, a fenced block allowed, parses as JSON).
      if (contract.kind === 'text' || contract.kind === 'code') return;
      if (contract.kind !== 'json') neverPasses(`'valid_json' checks a text, code or json output, but ${who} produces ${contract.kind}.`);
      else if (negated) {
        neverPasses(`'not valid_json' can never pass: ${who} has a json contract, so an output that is not valid JSON (or breaks its schema) fails the step, and an expectation on a failed step fails.`);
      } else {
        out.push(diagnostic('COI414', span, `'valid_json' always holds: ${who} has a json contract, so an output that is not valid JSON (or breaks its schema) already fails the step.`));
      }
      return;
    case 'equals':
      checkEquals(expectation.value ?? '', contract, who, settled);
      return;
    default:
      return;
  }
}

/** Whether an expected text matches one of the labels, compared the way the run-time evaluation compares. */
function isLabel(text: string, labels: readonly string[], matches: (actual: string, expected: string) => boolean): boolean {
  return labels.some((label) => matches(label, text));
}

function reportLabel(label: string, labels: readonly string[], who: string, report: (message: string, data?: DiagnosticData) => void, note = ''): void {
  const suggestion = closest(label, labels);
  report(`'${label}' is not one of the labels of ${who} (${labels.join(', ')}).${didYouMean(suggestion)}${note}`, {
    labels,
    ...(suggestion ? { suggestion } : {}),
  });
}

/** `equals` values the contract rules out, read as the run reads them (matching.ts). */
function checkEquals(text: string, contract: Contract, who: string, report: (message: string, data?: DiagnosticData) => void): void {
  switch (contract.kind) {
    case 'number': {
      const n = numberValue(text);
      if (n === undefined) report(`${capitalize(who)} produces a number; it can never equal ${JSON.stringify(text)}.`);
      else if ((contract.min !== undefined && n < contract.min) || (contract.max !== undefined && n > contract.max)) {
        report(`${text} is outside the range of ${who} (${contract.min ?? '-∞'} to ${contract.max ?? '∞'}).`);
      } else if (contract.integer && !Number.isInteger(n)) report(`${capitalize(who)} produces an integer; it can never equal ${text}.`);
      return;
    }
    case 'boolean':
      if (booleanValue(text) === undefined) report(`${capitalize(who)} produces true or false; it can never equal ${JSON.stringify(text)}.`);
      return;
    case 'label':
      // A label step's output is one of its labels in the declared spelling; equals ignores only surrounding space.
      if (contract.labels.length > 0 && !isLabel(text, contract.labels, (label, expected) => equalsMatches(label, expected, 'label'))) {
        const caseOnly = isLabel(text, contract.labels, labelMatches) ? " ('equals' is case-sensitive; 'label' is not.)" : '';
        reportLabel(text, contract.labels, who, report, caseOnly);
      }
      return;
    case 'json': {
      const read = jsonValue(text);
      if (!read.ok) {
        report(`${capitalize(who)} produces JSON; ${JSON.stringify(text)} is not JSON, so the output can never equal it.`);
        return;
      }
      // The output matches the schema (or the step fails): a value that breaks it is never the output.
      // Checked as a given is: the file's patterns in linear time (jsonSchema.ts).
      const schema = checkedSchema(contract);
      const problem = schema === undefined ? undefined : checkJsonSchema(read.value, schema, 'expected', 'linear');
      if (problem !== undefined && 'errors' in problem) {
        report(`${capitalize(who)} produces JSON that matches its schema; the expected value breaks it (${problem.errors}), so the output can never equal it.`);
      }
      return;
    }
    default:
      return;
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
