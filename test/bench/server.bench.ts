// Language server latency through the protocol (the bundled server over stdio), on a
// 10,000-line chain: one-character edit → its diagnostics (pull), and completion.
// Targets (issue 3): diagnostics p95 < 100 ms, completion p95 < 30 ms.
import { cpus, loadavg } from 'node:os';
import type { CompletionList } from 'vscode-languageserver-protocol';
import { largeChain } from '../server/largeChain';
import { LspClient, newUri } from '../server/harness';
import { formatSummary, summarize } from './stats';

const LINES = 10_000;
const SAMPLES = 60;

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

    // An edit in the middle of the document: type a character, then delete it again.
    const editAt = text.indexOf('Summarize the text', Math.floor(text.length / 2));
    const edit = async (i: number): Promise<void> => {
      if (i % 2 === 0) await client.edit(uri, editAt, editAt, 'x');
      else await client.edit(uri, editAt, editAt + 1, '');
    };

    const diagnostics: number[] = [];
    for (let i = 0; i < SAMPLES + 4; i++) {
      const start = performance.now();
      await edit(i);
      await client.pullDiagnostics(uri);
      if (i >= 4) diagnostics.push(performance.now() - start);
    }
    console.log(formatSummary('edit → diagnostics (pull)', summarize(diagnostics)));

    // Completion after `output ` in a step in the middle of the file (document unchanged).
    const outputAt = text.indexOf('  output text', Math.floor(text.length / 2)) + '  output '.length;
    const position = client.document(uri).positionAt(outputAt);
    const complete = (): Promise<CompletionList> => client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position });
    const completion: number[] = [];
    for (let i = 0; i < SAMPLES + 4; i++) {
      const start = performance.now();
      const list = await complete();
      if (list.items.length === 0) throw new Error('completion returned nothing');
      if (i >= 4) completion.push(performance.now() - start);
    }
    console.log(formatSummary('completion (unchanged document)', summarize(completion)));

    // Completion right after an edit (the server re-parses first), as when typing.
    const typing: number[] = [];
    for (let i = 0; i < SAMPLES + 4; i++) {
      await edit(i);
      const start = performance.now();
      await client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: client.document(uri).positionAt(outputAt + (i % 2 === 0 ? 1 : 0)) });
      if (i >= 4) typing.push(performance.now() - start);
    }
    console.log(formatSummary('completion right after an edit', summarize(typing)));
    const d = summarize(diagnostics);
    const c = summarize(completion);
    console.log(`targets: diagnostics p95 ${d.p95Ms.toFixed(1)} ms (< 100: ${d.p95Ms < 100 ? 'met' : 'MISSED'}), completion p95 ${c.p95Ms.toFixed(1)} ms (< 30: ${c.p95Ms < 30 ? 'met' : 'MISSED'})`);
  } finally {
    await client.stop();
  }
}
