/**
 * Examples from the project's own material: each test of a `.coi` chain that gives a
 * reference for every step (see core/records/fromChain.ts) is one example. A test with the
 * final answer only gives none: the example of a chain is every step's output behind the
 * paper's markers, and without the middle ones it would be a one-step example of a chain's
 * instruction (`coi export` still writes such a test as a final-answer record).
 */
import type { Chain } from '../chain/model';
import { noteReadBackProblem, testToRecord } from '../records/fromChain';
import { LineMap } from '../syntax/lineMap';
import { exampleFrom } from './read';
import type { TrainingExample } from './types';

export interface ChainExamples {
  readonly examples: readonly TrainingExample[];
  /** Why some tests gave no example (a step without a reference, an input without a value). */
  readonly notes: readonly string[];
}

/** `text` is the chain file's text (for the line of each test). */
export function chainExamples(chain: Chain, file: string, text: string): ChainExamples {
  const lines = new LineMap(text);
  const examples: TrainingExample[] = [];
  const notes: string[] = [];
  if (chain.tests.length === 0) notes.push(`Chain '${chain.name}' has no tests: no example.`);
  for (const test of chain.tests) {
    const record = testToRecord(chain, test, { everyStep: true });
    if (typeof record === 'string') {
      notes.push(`Chain '${chain.name}', test '${test.name}': ${record.replace(/not exported\.$/, 'no example.')}`);
      continue;
    }
    // An example is the record's text, which training reads whole; read back as the record it is
    // (its steps split at " and then ", its outputs at the markers) it may not be this chain's: said, as `coi export` says it.
    noteReadBackProblem(notes, chain, test, record);
    const line = lines.positionAt(test.span.start).line + 1;
    examples.push(exampleFrom(record.instruction, record.input, record.output, { source: 'coi-test', file, line, name: test.name }));
  }
  return { examples, notes };
}
