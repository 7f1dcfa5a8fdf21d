// Language server latency through the protocol (the bundled server over stdio), on a
// 10,000-line chain. Not the kind case only: edits land at random places (seeded, so runs
// compare), completion is asked right after an edit as when typing, and a broken document
// (an unknown reference, an unclosed string) is measured too.
// Targets (issue 3): edit → diagnostics p95 < 100 ms, completion p95 < 30 ms — judged on
// the random edits and on completion right after an edit.
import { cpus, loadavg } from 'node:os';
import type { CompletionList } from 'vscode-languageserver-protocol';
import { seededRandom } from '../../core/metrics/random';
import { largeChain } from '../server/largeChain';
import { LspClient, newUri } from '../server/harness';
import { formatSummary, summarize, verdict } from './stats';

const LINES = 10_000;
const SAMPLES = 60;
const WARMUP = 4;

/** Offsets just inside every instruction string: a character typed there and deleted again keeps the chain as it was. */
function instructionOffsets(text: string): number[] {
  const offsets: number[] = [];
  for (let at = text.indexOf('instruction "'); at >= 0; at = text.indexOf('instruction "', at + 1)) offsets.push(at + 'instruction "'.length + 1);
  return offsets;
}

/** Edit → pulled diagnostics at `offsets` (type `x`, then delete it), after a warm-up; durations in ms. */
async function editLatencies(client: LspClient, uri: string, offsets: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i] as number;
    const start = performance.now();
    await client.edit(uri, at, at, 'x');
    await client.pullDiagnostics(uri);
    if (i >= WARMUP) out.push(performance.now() - start);
    await client.edit(uri, at, at + 1, '');
  }
  return out;
}

export async function run(): Promise<void> {
  const client = await LspClient.start();
  try {
    const uri = newUri('bench');
    const text = largeChain(LINES);
    await client.open(uri, text);
    console.log(`document: ${text.split('\n').length} lines, ${(text.length / 1024).toFixed(0)} KiB; machine load ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`);
    const first = performance.now();
    const initial = await client.pullDiagnostics(uri);
    console.log(`first check (parse + check, cold): ${(performance.now() - first).toFixed(1)} ms, ${initial.length} diagnostics`);

    const random = seededRandom(20261205);
    const candidates = instructionOffsets(text);
    const pick = (): number => candidates[Math.floor(random() * candidates.length)] as number;
    const randomOffsets = Array.from({ length: SAMPLES + WARMUP }, pick);
    const sameSpot = Array.from({ length: SAMPLES + WARMUP }, () => candidates[Math.floor(candidates.length / 2)] as number);

    const diagnostics = await editLatencies(client, uri, randomOffsets);
    console.log(formatSummary('edit at a random place → diagnostics (pull)', summarize(diagnostics)));
    console.log(formatSummary('edit at one place, back and forth → diagnostics (for reference)', summarize(await editLatencies(client, uri, sameSpot))));

    // Completion after `output ` in steps at random places: unchanged document, then right after an edit.
    const outputOffsets = Array.from({ length: SAMPLES + WARMUP }, () => {
      const at = text.indexOf('  output ', pick());
      return at + '  output '.length;
    });
    const complete = (offset: number): Promise<CompletionList> => client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: client.document(uri).positionAt(offset) });
    const unchanged: number[] = [];
    const afterEdit: number[] = [];
    for (let i = 0; i < outputOffsets.length; i++) {
      const offset = outputOffsets[i] as number;
      let start = performance.now();
      const list = await complete(offset);
      if (list.items.length === 0) throw new Error('completion returned nothing');
      if (i >= WARMUP) unchanged.push(performance.now() - start);
      const editAt = randomOffsets[i] as number;
      await client.edit(uri, editAt, editAt, 'x');
      start = performance.now();
      await complete(offset + (editAt < offset ? 1 : 0));
      if (i >= WARMUP) afterEdit.push(performance.now() - start);
      await client.edit(uri, editAt, editAt + 1, '');
    }
    console.log(formatSummary('completion (unchanged document)', summarize(unchanged)));
    console.log(formatSummary('completion right after an edit', summarize(afterEdit)));

    // A broken document: an unknown reference and an unclosed string in the middle.
    const middle = text.indexOf('  from ', Math.floor(text.length / 2));
    await client.edit(uri, middle, middle, '  from no_such_step\n  instruction "unclosed\n');
    const broken = await client.pullDiagnostics(uri);
    const brokenEdits = await editLatencies(client, uri, randomOffsets.map((o) => (o > middle ? o + '  from no_such_step\n  instruction "unclosed\n'.length : o)));
    console.log(formatSummary(`broken document (${broken.length} problems): edit → diagnostics`, summarize(brokenEdits)));

    const d = summarize(diagnostics);
    const c = summarize(afterEdit);
    console.log(`targets: edit at a random place → diagnostics p95 ${d.p95Ms.toFixed(1)} ms (< 100: ${verdict(d.p95Ms < 100)}), completion right after an edit p95 ${c.p95Ms.toFixed(1)} ms (< 30: ${verdict(c.p95Ms < 30)}), broken document p95 ${summarize(brokenEdits).p95Ms.toFixed(1)} ms (< 100: ${verdict(summarize(brokenEdits).p95Ms < 100)})`);
  } finally {
    await client.stop();
  }
}
