// Floods (issue 12 item 16): a document of random bytes gives tens of thousands of problems;
// the editor gets at most 1,000 of them, errors first, and one note with how many were left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { capDiagnostics, LEFT_OUT_CODE, MAX_DIAGNOSTICS_PER_DOCUMENT } from '../../core/diagnostics';
import { checkDocument } from '../../core/check';
import type { Diagnostic } from '../../core/syntax';
import { fullCapabilities, LspClient, minimalCapabilities, newUri } from './harness';

// Random bytes decoded as UTF-8 (replacement characters included), seeded by the bytes themselves.
const RANDOM_TEXT = new TextDecoder().decode(randomBytes(1 << 20));

void test('core: the cap keeps errors first, in source order, and says how many are left out', () => {
  const at = (start: number): { start: number; end: number } => ({ start, end: start + 1 });
  const many: Diagnostic[] = [
    { code: 'COI210', severity: 'info', message: 'i', span: at(0) },
    { code: 'COI101', severity: 'error', message: 'e1', span: at(5) },
    { code: 'COI207', severity: 'warning', message: 'w', span: at(7) },
    { code: 'COI101', severity: 'error', message: 'e2', span: at(9) },
  ];
  const capped = capDiagnostics(many, 2);
  assert.deepEqual(capped.map((d) => d.message.slice(0, 2)), ['e1', 'e2', '2 ']);
  assert.equal(capped.at(-1)?.code, LEFT_OUT_CODE);
  assert.match(capped.at(-1)?.message ?? '', /^2 more problems are not shown: 2 of 4 are, errors first/);
  assert.equal(capDiagnostics(many, 4), many, 'under the cap nothing changes');
});

for (const [kind, capabilities] of [['pulled', fullCapabilities()], ['pushed', minimalCapabilities()]] as const) {
  void test(`LSP (${kind}): 1 MiB of random bytes gives at most ${MAX_DIAGNOSTICS_PER_DOCUMENT} problems and the note`, async () => {
    const all = checkDocument(RANDOM_TEXT).diagnostics.length;
    assert.ok(all > MAX_DIAGNOSTICS_PER_DOCUMENT, `the flood is real: ${all} problems in core`);
    const client = await LspClient.start({ capabilities, settings: { diagnostics: { debounceMs: 0 } } });
    try {
      const uri = newUri('flood');
      await client.open(uri, RANDOM_TEXT);
      const items = kind === 'pulled' ? await client.pullDiagnostics(uri) : (await client.waitForPublished(uri)).diagnostics;
      assert.equal(items.length, MAX_DIAGNOSTICS_PER_DOCUMENT + 1);
      const note = items.at(-1);
      assert.equal(note?.code, LEFT_OUT_CODE);
      assert.match(typeof note?.message === 'string' ? note.message : '', new RegExp(`^${(all - MAX_DIAGNOSTICS_PER_DOCUMENT).toLocaleString('en-US')} more problems are not shown`));
    } finally {
      await client.stop();
    }
  });
}
