/**
 * Server-sent events (the WHATWG `text/event-stream` format) decoded
 * incrementally from a response body's bytes, in time linear in their length.
 *
 * Why not the `openai` SDK's own stream: for every event it copies the bytes
 * not yet decoded into a new array, so a chunk holding a whole streamed answer
 * (a fast local server writes all its events at once) is copied once per event,
 * and every line is decoded separately. That was over a third of each streamed
 * call's cost against a server that answers at once (docs/eval.md, Speed).
 */

export interface ServerSentEvent {
  /** The `event:` field, when the event has one. */
  readonly event?: string;
  /** The `data:` lines joined with line feeds. */
  readonly data: string;
}

export class EventStreamDecoder {
  private readonly text = new TextDecoder();
  /** Text after the last complete line. */
  private pending = '';
  private data = '';
  private hasData = false;
  private event: string | undefined;

  /** The events completed by `bytes` (UTF-8 sequences and line breaks may be split anywhere). */
  push(bytes: Uint8Array): ServerSentEvent[] {
    return this.lines(this.text.decode(bytes, { stream: true }), false);
  }

  /** At the end of the body: the events its last bytes complete. An event without its closing blank line is dropped, as the standard says. */
  end(): ServerSentEvent[] {
    return this.lines(this.text.decode(), true);
  }

  private lines(decoded: string, final: boolean): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    const text = this.pending + decoded;
    let start = 0;
    // The pending text holds no line break but perhaps a last CR (held back for its LF):
    // a long event arriving in many pieces is not searched again from its beginning.
    let from = Math.max(0, this.pending.length - 1);
    // Line breaks are LF, CRLF or CR; CRs are rare, so their position is looked up again only once passed.
    let cr = text.indexOf('\r', from);
    for (;;) {
      if (cr >= 0 && cr < from) cr = text.indexOf('\r', from);
      const lf = text.indexOf('\n', from);
      const end = cr >= 0 && (lf < 0 || cr < lf) ? cr : lf;
      if (end < 0) break;
      const isCr = end === cr;
      // A CR ending the text may be the first half of a CRLF: wait for the next bytes.
      if (isCr && end + 1 === text.length && !final) break;
      this.line(text.slice(start, end), events);
      start = end + (isCr && text.charCodeAt(end + 1) === 10 ? 2 : 1);
      from = start;
    }
    this.pending = final ? '' : text.slice(start);
    return events;
  }

  private line(line: string, events: ServerSentEvent[]): void {
    if (line === '') return this.dispatch(events);
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment (servers send them to keep the connection alive)
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (field === 'data') {
      this.data = this.hasData ? `${this.data}\n${value}` : value;
      this.hasData = true;
    } else if (field === 'event') this.event = value;
    // `id` and `retry` are for reconnecting, which a completion never does.
  }

  private dispatch(events: ServerSentEvent[]): void {
    if (this.hasData) events.push(this.event !== undefined ? { event: this.event, data: this.data } : { data: this.data });
    this.data = '';
    this.hasData = false;
    this.event = undefined;
  }
}
