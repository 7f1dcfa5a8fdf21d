/**
 * The evaluations' CLI tests over many rows: a one-step chain (`digest.coi`) and a dataset of
 * numbered rows (`rows.jsonl`, "Report row N: …") in a fresh folder.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';

const CHAIN = `chain digest
input text: text

step summary {
  instruction "Summarize the text."
  from text
  output text
}
`;

/** A folder with `digest.coi` and `rows.jsonl` holding `rows` rows; `coi eval digest.coi --dataset rows.jsonl` names it `digest-rows`. */
export function digestProject(rows: number): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'digest.coi'), CHAIN);
  writeFileSync(join(dir, 'rows.jsonl'), Array.from({ length: rows }, (_, i) => JSON.stringify({ text: `Report row ${i + 1}: the crew fixed the dock.` })).join('\n') + '\n');
  return dir;
}
