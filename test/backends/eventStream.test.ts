/**
 * The event-stream decoder of the OpenAI backend: each stream below, cut into
 * bytes at every possible place (so UTF-8 sequences and CRLFs are split too),
 * decodes to the events written next to it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStreamDecoder, type ServerSentEvent } from '../../core/backends/openai/eventStream';

const CASES: readonly { readonly name: string; readonly stream: string; readonly events: readonly ServerSentEvent[] }[] = [
  {
    name: 'chat completion chunks, then [DONE]',
    stream: 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n',
    events: [{ data: '{"a":1}' }, { data: '{"b":2}' }, { data: '[DONE]' }],
  },
  { name: 'CRLF line breaks', stream: 'data: x\r\n\r\ndata: y\r\n\r\n', events: [{ data: 'x' }, { data: 'y' }] },
  { name: 'a CRLF split between two reads is one line break, not a blank line', stream: 'data: a\r\ndata: b\r\n\r\n', events: [{ data: 'a\nb' }] },
  { name: 'CR line breaks', stream: 'data: x\r\rdata: y\r\r', events: [{ data: 'x' }, { data: 'y' }] },
  { name: 'several data lines join with line feeds', stream: 'data: one\ndata:two\ndata:  three\n\n', events: [{ data: 'one\ntwo\n three' }] },
  { name: 'comments (keep-alives) are ignored', stream: ': ping\n\n: ping\ndata: x\n\n', events: [{ data: 'x' }] },
  { name: 'an event name is kept for its event only', stream: 'event: error\ndata: {"error":{}}\n\ndata: z\n\n', events: [{ event: 'error', data: '{"error":{}}' }, { data: 'z' }] },
  { name: 'a blank line without data dispatches nothing', stream: '\n\nevent: x\n\ndata: y\n\n', events: [{ data: 'y' }] },
  { name: 'an empty data field is an event with empty data', stream: 'data\n\ndata:\n\n', events: [{ data: '' }, { data: '' }] },
  {
    name: "llama.cpp's error line (an `error:` field, no data) is an error event",
    stream: 'data: {"a":1}\n\nerror: {"code":500,"message":"boom"}\n\ndata: [DONE]\n\n',
    events: [{ data: '{"a":1}' }, { event: 'error', data: '{"code":500,"message":"boom"}' }, { data: '[DONE]' }],
  },
  { name: 'unknown fields, id and retry are ignored', stream: 'id: 7\nretry: 10\nfoo: bar\ndata: x\n\n', events: [{ data: 'x' }] },
  { name: 'text in many scripts (multi-byte UTF-8)', stream: 'data: {"c":"héllo wörld – 日本語 🙂"}\n\n', events: [{ data: '{"c":"héllo wörld – 日本語 🙂"}' }] },
  { name: 'a byte order mark at the start is not part of the first field', stream: '\uFEFFdata: x\n\n', events: [{ data: 'x' }] },
  { name: 'an event cut off by the end of the body is dropped', stream: 'data: whole\n\ndata: cut', events: [{ data: 'whole' }] },
  { name: 'a last event without its blank line is dropped too', stream: 'data: whole\n\ndata: cut\n', events: [{ data: 'whole' }] },
];

/** Decodes `bytes` delivered in the given pieces. */
function decode(bytes: Uint8Array, cuts: readonly number[]): ServerSentEvent[] {
  const decoder = new EventStreamDecoder();
  const events: ServerSentEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(from, cut)));
    from = cut;
  }
  events.push(...decoder.end());
  return events;
}

void describe('event-stream decoder', () => {
  for (const { name, stream, events } of CASES) {
    void test(name, () => {
      const bytes = new TextEncoder().encode(stream);
      assert.deepEqual(decode(bytes, []), events, 'in one piece');
      for (let cut = 1; cut < bytes.length; cut++) assert.deepEqual(decode(bytes, [cut]), events, `cut at byte ${cut}`);
      assert.deepEqual(
        decode(
          bytes,
          Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
        ),
        events,
        'byte by byte',
      );
    });
  }

  void test('a long event arriving in many small pieces is decoded whole', () => {
    const payload = JSON.stringify({ text: 'word '.repeat(50_000) });
    const bytes = new TextEncoder().encode(`data: ${payload}\r\n\r\ndata: after\n\n`);
    const cuts = Array.from({ length: Math.floor(bytes.length / 997) }, (_, i) => (i + 1) * 997);
    assert.deepEqual(decode(bytes, cuts), [{ data: payload }, { data: 'after' }]);
  });

  // Decoding is linear: about 1 s here (mostly UTF-8 decoding), where appending each piece to the
  // pending text and searching it all again took 23 to 38 s. The limit only keeps that from
  // passing; the pieces come one per turn of the event loop, as network reads do, so it can fire.
  void test('one 16 MB event arriving in 64 KB pieces is decoded whole', { timeout: 20_000 }, async () => {
    const content = 'y'.repeat(16 << 20);
    const bytes = new TextEncoder().encode(`data: {"c":"${content}"}\n\ndata: [DONE]\n\n`);
    const decoder = new EventStreamDecoder();
    const events: ServerSentEvent[] = [];
    for (let from = 0; from < bytes.length; from += 65_536) {
      events.push(...decoder.push(bytes.subarray(from, from + 65_536)));
      await new Promise(setImmediate);
    }
    events.push(...decoder.end());
    assert.equal(events.length, 2);
    assert.equal((JSON.parse(events[0]?.data ?? '') as { c: string }).c, content);
    assert.deepEqual(events[1], { data: '[DONE]' });
  });

  void test('a long stream in one piece decodes every event (no per-event copy of the rest)', () => {
    const count = 20_000;
    const stream = Array.from({ length: count }, (_, i) => `data: {"i":${i}}\n\n`).join('');
    const events = new EventStreamDecoder().push(new TextEncoder().encode(stream));
    assert.equal(events.length, count);
    assert.equal(events[count - 1]?.data, `{"i":${count - 1}}`);
  });
});
