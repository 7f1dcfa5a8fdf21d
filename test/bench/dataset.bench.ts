/**
 * Dataset benchmark: reading the paper's CoI2 training set (coi_2.json, 2,933 records,
 * 3 MB), writing it in every format, and preparing it (de-duplication, seeded split,
 * statistics), each against JSON.parse / JSON.stringify of the same data as the floor.
 * Without ../shared/data/coi the benchmark says so and measures nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DATASET_FORMATS, prepareDataset, readDataset, writeDataset } from '../../core/dataset';
import { sharedDataPath } from '../helpers/paths';
import { formatSummary, timeRepeated } from './stats';

export async function run(): Promise<void> {
  const path = sharedDataPath('coi_2.json');
  if (!existsSync(path)) {
    console.log('skipped: ../shared/data/coi/coi_2.json (the paper data) is not here');
    return;
  }
  const text = readFileSync(path, 'utf8');
  const examples = readDataset(text).examples;
  console.log(formatSummary('JSON.parse (floor)', await timeRepeated(() => JSON.parse(text), 20)));
  console.log(formatSummary('readDataset coi_2.json', await timeRepeated(() => readDataset(text), 20)));
  const parsed = JSON.parse(text) as unknown;
  console.log(formatSummary('JSON.stringify (floor)', await timeRepeated(() => JSON.stringify(parsed), 20)));
  for (const format of DATASET_FORMATS) console.log(formatSummary(`write ${format}`, await timeRepeated(() => writeDataset(examples, format), 20)));
  console.log(formatSummary('prepare (dedupe, split, stats)', await timeRepeated(() => prepareDataset(examples, { format: 'trl-prompt-completion' }), 20)));
}
